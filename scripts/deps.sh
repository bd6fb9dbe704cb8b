#!/usr/bin/env bash
# Installs the Debian packages a target needs, when missing.
# As root it runs apt-get; otherwise it prints the exact apt-get line and fails.
#   scripts/deps.sh build|check|demo|bench|fuzz
set -euo pipefail
what=${1:-build}

# libcmocka-dev is a build dependency: every build configures the unit tests
# (HDM_TESTS=ON), so a build made before `make check` can never lack them.
build=(cmake make gcc g++ pkg-config libcjson-dev libmicrohttpd-dev libyaml-dev libutf8proc-dev zlib1g-dev
       libjpeg62-turbo-dev libpng-dev libwebp-dev libsystemd-dev libcurl4-openssl-dev
       libopencv-imgproc-dev libpolyclipping-dev libcmocka-dev
       libavformat-dev libavcodec-dev libswresample-dev libavutil-dev)
# Each of these is what some test needs to run rather than skip
# (scripts/test-audit.py fails `make check` on a skip): valgrind for
# leaks.valgrind_manager_frames, shellcheck for the deploy scripts' lint,
# prometheus for promtool.
test=(python3 python3-pytest python3-requests python3-pil python3-numpy systemd
      nodejs npm prometheus valgrind shellcheck espeak-ng sox ffmpeg)
test+=(python3-yaml) # hailo-ocr: the original's config tests parse YAML
# The manager's dashboard is checked in a real browser (headless chromium
# driven through chromium-driver by selenium).
test+=(chromium chromium-driver python3-selenium)
case "$what" in
  build) want=("${build[@]}") ;;
  demo) want=("${build[@]}" python3 espeak-ng) ;;
  check|bench) want=("${build[@]}" "${test[@]}") ;;
  fuzz) want=("${build[@]}" "${test[@]}" clang libclang-rt-14-dev) ;;
  *) echo "deps.sh: unknown target '$what' (build|check|demo|bench|fuzz)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # nodejs/npm may come from elsewhere (e.g. NodeSource): accept any working binary.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "Missing Debian packages. Run as root:" >&2
  echo "  sudo apt-get update && sudo $line" >&2
  exit 1
fi
