# shellcheck shell=bash
# files.sh - idempotent file and directory steps: nothing is rewritten when it
# is already as wanted, so a second install changes nothing and says so.
# Needs common.sh and state.sh.

# The "mode owner:group" of a path as stat prints them (octal mode, numeric ids).
file_state() { stat -c '%a %u:%g' "$1" 2>/dev/null; }

# set_attrs PATH MODE USER GROUP - fixes mode and owner when they differ.
set_attrs() {
    local path=$1 mode=$2 ids want
    owner_ids "$3" "$4"
    ids=$OWNER_IDS
    # As stat prints it: octal without leading zeros, setgid as a leading 2 (2775).
    printf -v want '%o %s' "$((8#$mode))" "$ids"
    [ -e "$path" ] || [ "$DRY_RUN" = 1 ] || die "$path: missing"
    if [ "$(file_state "$path")" != "$want" ]; then
        changed "set $path to mode $mode, owner $3:$4"
        run chown "$ids" "$path"
        run chmod "$mode" "$path"
    fi
}

# ensure_dir PATH MODE USER GROUP (PATH inside ROOT already).
ensure_dir() {
    local path=$1
    if [ ! -d "$path" ]; then
        owner_ids "$3" "$4"
        changed "create directory $path"
        run install -d -m "$2" -o "${OWNER_IDS%:*}" -g "${OWNER_IDS#*:}" "$path"
        return
    fi
    set_attrs "$path" "$2" "$3" "$4"
}

# make_dir PATH - a directory this script does not own (/usr/local/bin ...):
# created 0755 root:root when missing, else left as the system has it.
make_dir() {
    [ -d "$1" ] && return 0
    changed "create directory $1"
    run install -d -m 0755 -o 0 -g 0 "$1"
}

# install_file SRC DEST MODE USER GROUP - copies when the content differs,
# else only fixes mode and owner.  install(1) unlinks the old file before it
# writes the new one, so a running program's binary is replaced, never
# overwritten in place.  Returns 0 when it wrote the file, 1 when the content
# was already there.
install_file() {
    local src=$1 dest=$2 mode=$3
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        set_attrs "$dest" "$mode" "$4" "$5"
        return 1
    fi
    if [ -e "$dest" ]; then
        changed "update $dest"
    else
        changed "install $dest"
    fi
    [ "$DRY_RUN" = 0 ] || return 0
    owner_ids "$4" "$5"
    install -D -m "$mode" -o "${OWNER_IDS%:*}" -g "${OWNER_IDS#*:}" "$src" "$dest"
    return 0
}

# install_config SRC DEST PRISTINE MODE USER GROUP - a config file the admin
# may edit.  PRISTINE keeps a copy of the default this script installed last:
#   - DEST missing                 -> install the default
#   - DEST equal to the new default -> nothing to do
#   - DEST equal to PRISTINE (an old default nobody edited) -> update it
#   - otherwise DEST was edited     -> keep it, write the default as DEST.dist
# A DEST that was there before this script ever installed one (no PRISTINE:
# the original Python service's config) is kept the same way, read as it is,
# recorded (state.sh) so that uninstall --purge leaves it, and never
# re-owned.
install_config() {
    local src=$1 dest=$2 pristine=$3 mode=$4 user=$5 group=$6 whose=edited
    if [ -e "$dest" ] && [ ! -f "$pristine" ] && ! cmp -s "$src" "$dest"; then
        state_add foreign-config "${dest#"$ROOT"}"
    fi
    state_has foreign-config "${dest#"$ROOT"}" && whose="not ours (the original service's)"
    if [ ! -e "$dest" ]; then
        install_file "$src" "$dest" "$mode" "$user" "$group" || true
    elif cmp -s "$src" "$dest"; then
        note "= $dest is the current default"
    elif [ "$whose" = edited ] && [ -f "$pristine" ] && cmp -s "$pristine" "$dest"; then
        install_file "$src" "$dest" "$mode" "$user" "$group" || true
    else
        if [ -f "$dest.dist" ] && cmp -s "$src" "$dest.dist"; then
            note "= $dest is $whose: kept; the default is in $dest.dist"
        else
            install_file "$src" "$dest.dist" "$mode" "$user" "$group" || true
            say "  NOTE: $dest is $whose: kept as it is; the new default is in $dest.dist"
        fi
    fi
    install_file "$src" "$pristine" 0644 root root || true
}

# remove_path PATH... - removes files or empty-or-not directories that exist.
remove_path() {
    local p
    for p in "$@"; do
        if [ -e "$p" ] || [ -L "$p" ]; then
            changed "remove $p"
            run rm -rf -- "$p"
        fi
    done
}

# fix_model_tree DIR GROUP - every directory below DIR setgid and group
# GROUP with g+rx, every file group GROUP with g+r, so the device manager
# (a member of GROUP) can open every model a service fetched.  Models written
# 0600 by a download tool are the cause of HAILO_OPEN_FILE_FAILURE(13).
fix_model_tree() {
    local dir=$1 gid=${ACCT_GID[$2]:-} n
    [ -d "$dir" ] || return 0
    [ -n "$gid" ] || { [ "$DRY_RUN" = 1 ] && return 0; die "group $2 missing"; }
    n=$(find "$dir" -mindepth 1 \( ! -gid "$gid" -o \( -type d ! -perm -2050 \) \
        -o \( -type f ! -perm -0040 \) \) -print | wc -l)
    [ "$n" -gt 0 ] || return 0
    changed "make $n model files and directories under $dir readable by group $2"
    [ "$DRY_RUN" = 1 ] && return 0
    find "$dir" -mindepth 1 ! -gid "$gid" -exec chgrp -h "$gid" {} +
    find "$dir" -mindepth 1 -type d ! -perm -2050 -exec chmod g+rxs {} +
    find "$dir" -mindepth 1 -type f ! -perm -0040 -exec chmod g+r {} +
}
