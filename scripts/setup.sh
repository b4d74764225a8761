#!/usr/bin/env bash
# One-command development set-up for trackflow_ros on a machine without apt ROS 2.
#
#   1. apt packages it needs (only if missing): Python 3.11 with venv and headers, a C/C++
#      compiler and make.
#   2. .venv (Python 3.11) with the pinned packages of requirements.txt, ROS 2 Kilted included.
#   3. msg/ built with cmake into the venv, after pointing the wheels' exported CMake files at
#      this venv's Python and numpy headers (they carry the wheel builder's paths).
#   4. the trackflow_ros Python package installed editable.
#
# Each step is skipped when the inputs it depends on have not changed since it last
# succeeded (hash stamps in .venv/.stamps), so a second run takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TRACKFLOW_VENV:-$ROOT/.venv}"
STAMPS="$VENV/.stamps"
cd "$ROOT"

log() { printf '[setup] %s\n' "$*"; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp_set() { mkdir -p "$STAMPS"; printf '%s' "$2" > "$STAMPS/$1"; }

APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null; then
    log "ERROR: missing $*, and no apt-get to install it with; install it by hand." >&2
    exit 1
  fi
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if [[ $APT_UPDATED -eq 0 ]]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# --- 1. system packages -------------------------------------------------------------------
PYTHON="${PYTHON:-$(command -v python3.11 || true)}"
if [[ -z "$PYTHON" ]]; then
  apt_install python3.11 python3.11-venv python3.11-dev
  PYTHON="$(command -v python3.11)"
fi
if ! "$PYTHON" -c "import venv, ensurepip" 2>/dev/null; then
  apt_install python3.11-venv
fi
PY_INCLUDE="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
if [[ ! -f "$PY_INCLUDE/Python.h" ]]; then
  apt_install python3.11-dev
fi
missing=()
command -v cc >/dev/null || missing+=(gcc)
command -v c++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
if [[ ${#missing[@]} -gt 0 ]]; then
  apt_install "${missing[@]}"
fi

# --- 2. virtual environment ---------------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
req_hash="$(hash_of requirements.txt)"
if ! stamp_ok requirements "$req_hash"; then
  log "installing pinned packages (first run: several minutes; torch is large)"
  "$VPY" -m pip install --quiet -r requirements.txt
  "$VPY" -m pip check
  rm -f "$STAMPS/msgs"  # the wheels' CMake files were (re)written: rebuild the messages
  stamp_set requirements "$req_hash"
fi

# --- 3. messages --------------------------------------------------------------------------
msg_hash="$(hash_of CMakeLists.txt package.xml msg/*.msg scripts/setup.sh "$STAMPS/requirements")"
if ! stamp_ok msgs "$msg_hash"; then
  log "building msg/ into the venv"
  # The wheels were built under /opt/python/cp311-cp311: their exported CMake targets name
  # that interpreter's include directories, which do not exist here.
  venv_py_include="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  venv_np_include="$("$VPY" -c 'import numpy; print(numpy.get_include())')"
  { grep -rl --include='*.cmake' '/opt/python/cp311-cp311' "$VENV/share" || true; } \
    | xargs -r sed -i \
      -e "s#/opt/python/cp311-cp311/include/python3.11#$venv_py_include#g" \
      -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$venv_np_include#g"
  build="$ROOT/build/msgs"
  rm -rf "$build" && mkdir -p "$build"
  (
    export PATH="$VENV/bin:$PATH" CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV"
    cmake -S "$ROOT" -B "$build" -DCMAKE_INSTALL_PREFIX="$VENV" \
      -DPython3_EXECUTABLE="$VPY" -DBUILD_TESTING=OFF \
      -DTRACKFLOW_INSTALL_PYTHON_PACKAGE=OFF >"$build.log" 2>&1 &&
      cmake --build "$build" -j"$(nproc)" >>"$build.log" 2>&1 &&
      cmake --install "$build" >>"$build.log" 2>&1
  ) || { log "ERROR: message build failed; see $build.log" >&2; tail -n 30 "$build.log" >&2; exit 1; }
  # rosidl installs an empty trackflow_ros/__init__.py beside the generated msg/ package. Left
  # there it would shadow the editable source package; without it, the source package's
  # pkgutil.extend_path finds msg/ and the type-support libraries in site-packages.
  # rosidl also registers that directory as a distribution (an egg-info) named like the
  # package: pip would take it for an old install of this package and uninstall, i.e. delete,
  # the generated messages when it installs the editable package below.
  site="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  rm -rf "$site/trackflow_ros/__init__.py" "$site/trackflow_ros/__pycache__" \
    "$site"/trackflow_ros-*.egg-info
  stamp_set msgs "$msg_hash"
fi

# --- 4. the package itself, editable ------------------------------------------------------
pkg_hash="$(hash_of setup.py "$STAMPS/msgs")"
if ! stamp_ok package "$pkg_hash"; then
  log "installing trackflow_ros (editable)"
  # compat mode puts the repository root on sys.path (a .pth file): a plain path entry, so the
  # package and the generated messages in site-packages join through pkgutil.extend_path.
  "$VPY" -m pip install --quiet --no-deps --no-build-isolation -e . \
    --config-settings editable_mode=compat
  stamp_set package "$pkg_hash"
fi

"$VPY" -c 'import rclpy, trackflow_ros.msg, trackflow_ros' \
  || { log "ERROR: the venv does not import rclpy and trackflow_ros.msg" >&2; exit 1; }
log "ready: $VENV"
