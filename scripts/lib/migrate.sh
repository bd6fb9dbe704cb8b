# shellcheck shell=bash
# migrate.sh - installing over the original Python stack (issue 15).
#
# The original installs each service as its own user and group
# (hailo-vision:hailo-vision ...), keeps the models it downloads below
# /var/lib/hailo-<service> (chmod -R u+rwX,g+rX,o-rwx: the group may read,
# nobody else), lets its services reach its manager through the group of
# /dev/hailo0, and names further model places in /etc/hailo/hailo-*.yaml.
# Its other services (ocr, depth, pose, whisper ...) keep running against
# our manager.  So that they keep working, without opening anything to the
# world:
#   - every hailo-* system user joins the socket group `hailo`;
#   - the manager's user joins the group of each original model tree (that
#     group already may read it), and entries of the tree the group cannot
#     read get the group's read bits (a download tool may have written 0600);
#   - model places named in the original configs outside the manager's
#     model_dirs are added to the manager config we install.
# Every change is recorded (state.sh) for uninstall.sh.
# Needs common.sh, files.sh, accounts.sh, state.sh.

# yaml_leaves FILE - "dotted.key<TAB>value" for every scalar of a YAML file in
# block style (what the original ships and its users edit): comments,
# quotes and "null" handled; list items and flow collections skipped.
yaml_leaves() {
    awk '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
    /^[ \t]*(#|$)/ || /^[ \t]*-/ || /^---/ { next }
    {
        match($0, /^ */); ind = RLENGTH
        rest = substr($0, ind + 1)
        k = index(rest, ":"); if (k == 0) next
        key = trim(substr(rest, 1, k - 1)); val = trim(substr(rest, k + 1))
        gsub(/^["\x27]|["\x27]$/, "", key)
        while (depth > 0 && ind <= indent[depth]) depth--
        depth++; indent[depth] = ind; name[depth] = key
        if (val ~ /^["\x27]/) {
            q = substr(val, 1, 1); e = index(substr(val, 2), q)
            val = e ? substr(val, 2, e - 1) : substr(val, 2)
        } else {
            sub(/[ \t]+#.*$/, "", val)
            if (val ~ /^(~|null|Null|NULL)$/ || val ~ /^[\[{]/) val = ""
        }
        if (val == "") next
        path = name[1]; for (i = 2; i <= depth; i++) path = path "." name[i]
        print path "\t" val
    }' "$1"
}

# yaml_get FILE KEY - the value of one dotted key ("" when absent or null).
yaml_get() { yaml_leaves "$1" | awk -F '\t' -v k="$2" '$1 == k { print $2; exit }'; }

# model_dirs_of FILE - the model_dirs list of a manager config, one a line.
model_dirs_of() {
    awk '
    /^model_dirs:/ {
        s = 1; v = $0; sub(/^model_dirs:[ \t]*/, "", v); sub(/[ \t]+#.*$/, "", v)
        if (v ~ /^\[/) { gsub(/[\[\]"\x27 \t]/, "", v); n = split(v, a, ","); for (i = 1; i <= n; i++) if (a[i] != "") print a[i]; s = 0 }
        next
    }
    s && /^[ \t]*-/ { v = $0; sub(/^[ \t]*-[ \t]*/, "", v); sub(/[ \t]+#.*$/, "", v); gsub(/^["\x27]|["\x27]$/, "", v); print v; next }
    s && /^[^ \t#]/ { s = 0 }' "$1"
}

# Whether DIR lies in (or is) one of the directories listed in $2 (newline-separated).
dir_covered() {
    local d
    while IFS= read -r d; do
        [ -n "$d" ] || continue
        d=${d%/}
        [ "$1" = "$d" ] || [[ "$1" = "$d/"* ]] || [ -z "$d" ] && return 0
    done <<<"$2"
    return 1
}

# ---- the socket group --------------------------------------------------------

MIGRATED_SOCKET_USERS=()

# Every hailo-* system user that is not in the socket group joins it: the
# original services reached their manager through the group of /dev/hailo0.
migrate_socket_users() {
    local u
    for u in $(printf '%s\n' "${!ACCT_UID[@]}" | sort); do
        if [[ "$u" != hailo-* ]] || [ "${ACCT_UID[$u]}" -ge 1000 ]; then
            continue
        fi
        user_in_group "$u" "$SOCKET_GROUP" && continue
        add_to_group "$u" "$SOCKET_GROUP" "to reach the device manager's socket"
        MIGRATED_SOCKET_USERS+=("$u")
    done
    [ ${#MIGRATED_SOCKET_USERS[@]} = 0 ] ||
        note "  (users of the original Python services: they reached their manager through" \
            "the group of /dev/hailo0; ours is $SOCKET_GROUP)"
}

# ---- the original model trees ------------------------------------------------

# migrate_tree TREE MANAGER_USER - the manager's user may read every model
# file of TREE through TREE's own group.
migrate_tree() {
    local tree=$1 mgr=$2 gid group n path mode need st old
    if [ ! -d "$ROOT$tree" ] || [ -L "$ROOT$tree" ]; then return 0; fi
    gid=$(stat -c %g "$ROOT$tree")
    group=${ACCT_GNAME[$gid]:-}
    if [[ "$group" != hailo-* ]]; then
        # Not a service's own group: never join it (it could be "users" or
        # root's); say what cannot be read instead.
        n=0
        while IFS= read -r -d '' path; do
            can_access "$mgr" "${path#"$ROOT"}" r || n=$((n + 1))
        done < <(find "$ROOT$tree" -type f -print0)
        [ "$n" = 0 ] || warn "$n files under $tree are not readable by $mgr and the tree's group" \
            "(${group:-$gid}) is not a service's: chgrp -R $MODEL_GROUP $tree; chmod -R g+rX $tree"
        return 0
    fi
    add_to_group "$mgr" "$group" "to read the models in $tree"
    # Entries of the tree the manager could not read: one of another group
    # that others may not read either (a root download) gets the tree's
    # group; missing group bits are added.  Nothing changes for "other";
    # symbolic links are left alone (the manager refuses to follow them).
    n=0
    while IFS= read -r -d '' path; do
        n=$((n + 1))
        [ "$DRY_RUN" = 0 ] || continue
        st=$(stat -c '%g %a' "$path")
        if [ "${st% *}" != "$gid" ]; then
            state_add chgrp "${st% *}" "${path#"$ROOT"}"
            chgrp -h "$gid" "$path"
        fi
        old=${st#* }
        if [ -d "$path" ]; then need=050 mode=g+rx; else need=040 mode=g+r; fi
        if [ $((8#$old & 8#$need)) != $((8#$need)) ]; then
            state_add mode "$old" "${path#"$ROOT"}"
            chmod "$mode" "$path"
        fi
    done < <(find "$ROOT$tree" \( \( -type d -gid "$gid" ! -perm -g=rx \) \
        -o \( -type f -gid "$gid" ! -perm -g=r \) \
        -o \( -type d ! -gid "$gid" ! -perm -o=rx \) -o \( -type f ! -gid "$gid" ! -perm -o=r \) \) \
        -print0)
    [ "$n" = 0 ] || changed "make $n model files and directories under $tree readable by group" \
        "$group (its own group; nothing is opened to other users)"
}

# ---- model places named in the original configs ------------------------------

EXTRA_MODEL_DIRS=()

# original_model_places - "config<TAB>key<TAB>directory" for every model
# place the original configs name, the way the original services read them.
original_model_places() {
    local etc=$ROOT$CONFIG_DIR f v name dir mroot
    f=$etc/hailo-vision.yaml
    if [ -f "$f" ]; then
        v=$(yaml_get "$f" model.hef_path)
        [[ "$v" != /* ]] || printf 'hailo-vision.yaml\tmodel.hef_path\t%s\n' "$(dirname "$v")"
    fi
    f=$etc/hailo-depth.yaml
    if [ -f "$f" ]; then
        v=$(yaml_get "$f" resources.model_dir)
        [[ "$v" != /* ]] || printf 'hailo-depth.yaml\tresources.model_dir\t%s\n' "${v%/}"
    fi
    f=$etc/hailo-whisper.yaml
    if [ -f "$f" ]; then
        v=$(yaml_get "$f" storage.resources_dir)
        [[ "$v" != /* ]] || printf 'hailo-whisper.yaml\tstorage.resources_dir\t%s\n' "${v%/}"
    fi
    f=$etc/hailo-ocr.yaml
    if [ -f "$f" ]; then
        # A relative HEF name is looked up in models_root, then hailo-apps'
        # vendored resources, then the service's own tree.
        mroot=$(yaml_get "$f" hailo_models.models_root)
        [[ "$mroot" != /* ]] || printf 'hailo-ocr.yaml\thailo_models.models_root\t%s\n' "${mroot%/}"
        while IFS=$'\t' read -r name v; do
            [ -n "$v" ] || continue
            if [[ "$v" = /* ]]; then
                printf 'hailo-ocr.yaml\t%s\t%s\n' "$name" "$(dirname "$v")"
                continue
            fi
            for dir in ${mroot:+"$mroot"} /opt/hailo-ocr/vendor/hailo-apps/local_resources/models/hailo10h \
                /var/lib/hailo-ocr/resources/models/hailo10h; do
                if [ -f "$ROOT$dir/$v" ]; then
                    printf 'hailo-ocr.yaml\t%s\t%s\n' "$name" "$dir"
                    break
                fi
            done
        done < <(yaml_leaves "$f" | grep -E '^hailo_models\.(detection_hef|recognition_hefs\.)')
    fi
}

# migrate_model_dirs DEFAULT_CONFIG INSTALLED_CONFIG - fills EXTRA_MODEL_DIRS
# with the places the original configs name that the default manager
# config does not allow (what the rendered default adds), and
# MISSING_MODEL_DIRS with those the installed config (when there is one)
# does not allow either.
MISSING_MODEL_DIRS=()
migrate_model_dirs() {
    local allowed installed='' file key dir
    allowed=$(model_dirs_of "$1")
    [ ! -f "$2" ] || installed=$(model_dirs_of "$2")
    while IFS=$'\t' read -r file key dir; do
        [ -n "$dir" ] || continue
        dir_covered "$dir" "$allowed" && continue
        dir_covered "$dir" "$(printf '%s\n' "${EXTRA_MODEL_DIRS[@]+"${EXTRA_MODEL_DIRS[@]}"}")" &&
            continue
        EXTRA_MODEL_DIRS+=("$dir")
        if [ -f "$2" ] && dir_covered "$dir" "$installed"; then
            continue
        fi
        MISSING_MODEL_DIRS+=("$dir")
        note "  model directory $dir ($CONFIG_DIR/$file: $key) is not in model_dirs: adding it"
        case "$dir" in
            /home/* | /root/* | /run/user/*)
                warn "$dir is hidden from the manager by its unit (ProtectHome=yes): move the" \
                    "models below /var/lib/hailo or /usr/local/hailo/resources" ;;
        esac
        if [ -d "$ROOT$dir" ] && ! can_access "${COMP_USER[manager]}" "$dir" rx; then
            warn "${COMP_USER[manager]} cannot read $dir ($(stat -c '%U:%G %a' "$ROOT$dir")): give" \
                "it group $MODEL_GROUP (chgrp -R $MODEL_GROUP $dir; chmod -R g+rX $dir)"
        fi
    done < <(original_model_places)
}

# render_manager_config SRC OUT - SRC with EXTRA_MODEL_DIRS appended to its
# model_dirs list.
render_manager_config() {
    local extra
    if [ ${#EXTRA_MODEL_DIRS[@]} = 0 ]; then
        cp "$1" "$2"
        return
    fi
    extra=$(printf '  - %s\n' "${EXTRA_MODEL_DIRS[@]}")
    awk -v extra="$extra" '
    /^model_dirs:/ { s = 1 }
    s && !/^[ \t]*(-|#)/ && !/^model_dirs:/ {
        print "  # Named in the original services'"'"' configs (added by scripts/install.sh)."
        print extra; s = 0
    }
    { print }
    END { if (s) { print "  # Named in the original services'"'"' configs (added by scripts/install.sh)."; print extra } }
    ' "$1" >"$2"
}

# ---- units of the original stack ---------------------------------------------

# Whether the unit file $1 is one of ours (rendered from systemd/).
our_unit() { grep -q 'hailo-ai-services' "$1" 2>/dev/null; }

# keep_original_unit UNIT BACKUP_DIR - before our UNIT replaces the
# original's, keep the original (and whether it was enabled) for
# uninstall.sh; stop it when it runs.
keep_original_unit() {
    local u=$1 dest=$ROOT$UNIT_DIR/$1 backup=$2/$1 enabled=disabled
    [ -f "$dest" ] && ! our_unit "$dest" || return 0
    [ ! -e "$backup" ] || return 0
    ! unit_enabled "$u" || enabled=enabled
    changed "keep the original stack's $u in $backup ($enabled; uninstall.sh puts it back)"
    if [ "$DRY_RUN" = 0 ]; then
        install -D -m 0644 -o 0 -g 0 "$dest" "$backup"
        state_add unit "$u" "$enabled"
    fi
    if systemd_running && [ "${u##*.}" = service ] && systemctl is-active --quiet "$u"; then
        changed "stop the original $u (ours replaces it)"
        run systemctl stop "$u"
    fi
}

# restore_original_unit UNIT BACKUP_DIR - uninstall.sh: the original's unit
# back in place (and enabled when it was).
restore_original_unit() {
    local u=$1 backup=$2/$1 enabled
    [ -f "$backup" ] || return 0
    enabled=$(state_list unit | awk -F '\t' -v u="$u" '$2 == u { print $3; exit }')
    changed "restore the original stack's $u${enabled:+ ($enabled)}"
    run install -m 0644 -o 0 -g 0 "$backup" "$ROOT$UNIT_DIR/$u"
    if [ "$enabled" = enabled ]; then
        if [ "$DRY_RUN" = 1 ]; then
            printf '  [dry-run] systemctl enable %s\n' "$u"
        else
            sysctl_target enable --quiet "$u"
        fi
    fi
    run rm -f -- "$backup"
}

# unit_user FILE - the User= of a unit file.
unit_user() { awk -F= '$1 == "User" { print $2; exit }' "$1"; }

# original_units_active - the original stack's service units running now
# (ours left out), one a line.
original_units_active() {
    local f
    systemd_running || return 0
    for f in "$ROOT$UNIT_DIR"/hailo-*.service; do
        [ -f "$f" ] || continue
        our_unit "$f" && continue
        if systemctl is-active --quiet "${f##*/}"; then
            printf '%s\n' "${f##*/}"
        fi
    done
}

# restart_original_units UNIT... - after our units started, for the original
# stack's services that ran before (original_units_active): those that
# stopped with the manager they required start again, those whose user
# joined the socket group restart to get it.  Units ours replaced are left.
restart_original_units() {
    local u f
    for u in "$@"; do
        f=$ROOT$UNIT_DIR/$u
        [ -f "$f" ] || continue
        our_unit "$f" && continue
        if ! systemctl is-active --quiet "$u"; then
            changed "start $u again (the original stack's; it stopped with its manager)"
            run systemctl start "$u" || start_failed "$u"
        elif [[ " ${MIGRATED_SOCKET_USERS[*]-} " = *" $(unit_user "$f") "* ]]; then
            changed "restart $u (the original stack's: its user joined group $SOCKET_GROUP)"
            run systemctl restart "$u" || start_failed "$u"
        fi
    done
}

# ---- undo (uninstall.sh --purge) ---------------------------------------------

# Puts back the groups and modes migrate_tree changed, and takes users out
# of the groups the installer added them to.
unmigrate() {
    local kind a b cur
    while IFS=$'\t' read -r kind a b; do
        case "$kind" in
            mode)
                if [ ! -e "$ROOT$b" ] || [ -L "$ROOT$b" ]; then continue; fi
                cur=$(stat -c %a "$ROOT$b")
                [ "$cur" != "$a" ] || continue
                changed "restore mode $a of $b"
                run chmod "$a" "$ROOT$b" ;;
            chgrp)
                if [ ! -e "$ROOT$b" ] || [ -L "$ROOT$b" ]; then continue; fi
                changed "restore group $a of $b"
                run chgrp -h "$a" "$ROOT$b" ;;
            member)
                remove_from_group "$b" "$a" ;;
        esac
    done < <(state_list mode; state_list chgrp; state_list member)
}
