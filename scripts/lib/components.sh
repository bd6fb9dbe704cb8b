# shellcheck shell=bash disable=SC2034  # the tables are read by the sourcing scripts
# components.sh - what install.sh, uninstall.sh and verify.sh know about each
# part of the stack.  Every part is one self-contained file in components/,
# read in name order (10-manager.sh first: the services need it), that
# declares itself with `component NAME key=value...` and may define
# verify_NAME, verify.sh's end-to-end check of it.  Adding a service is
# adding one file there (and its unit in systemd/, its config in config/).
#
# Keys of `component`:
#   bins     programs taken from the build into PREFIX/bin (space-separated)
#   units    systemd units in systemd/ (space-separated, in start order)
#   config   its YAML in config/, installed as /etc/hailo/<config>
#   user     the system user it runs as
#   state    the directory it keeps fetched models in (group hailo-models)
#   port     its default HTTP port (verify.sh --NAME-url overrides it);
#            none for the manager
#   comment  the user's description
# Needs common.sh.

COMPONENT_ORDER=()
declare -A COMP_BINS=() COMP_UNITS=() COMP_CONFIG=() COMP_USER=() COMP_STATE=() COMP_PORT=()
declare -A COMP_COMMENT=()

# component NAME key=value... - declares a component (see above).
component() {
    local name=$1 kv
    shift
    COMPONENT_ORDER+=("$name")
    for kv in "$@"; do
        case "${kv%%=*}" in
            bins) COMP_BINS[$name]=${kv#*=} ;;
            units) COMP_UNITS[$name]=${kv#*=} ;;
            config) COMP_CONFIG[$name]=${kv#*=} ;;
            user) COMP_USER[$name]=${kv#*=} ;;
            state) COMP_STATE[$name]=${kv#*=} ;;
            port) COMP_PORT[$name]=${kv#*=} ;;
            comment) COMP_COMMENT[$name]=${kv#*=} ;;
            *) die "component $name: unknown key '${kv%%=*}'" ;;
        esac
    done
}

for _component_file in "$(dirname "${BASH_SOURCE[0]}")"/components/*.sh; do
    # shellcheck source=/dev/null
    . "$_component_file"
done
unset _component_file

# Whether NAME is a component.
is_component() { [ -n "${COMP_USER[$1]+set}" ]; }

# The services: every component but the manager, in order.
services() {
    local c
    for c in "${COMPONENT_ORDER[@]}"; do
        [ "$c" = manager ] || printf '%s\n' "$c"
    done
}

# The components named on a command line, expanded and in install order.
# Usage: parse_components ARG... ; result in COMPONENTS (array).
parse_components() {
    local a c
    local -A want=()
    [ $# -gt 0 ] || set -- all
    for a in "$@"; do
        if [ "$a" = all ]; then
            for c in "${COMPONENT_ORDER[@]}"; do want[$c]=1; done
        elif is_component "$a"; then
            want[$a]=1
        else
            die "unknown component '$a' (${COMPONENT_ORDER[*]} or all)"
        fi
    done
    COMPONENTS=()
    for c in "${COMPONENT_ORDER[@]}"; do
        [ -z "${want[$c]:-}" ] || COMPONENTS+=("$c")
    done
}
