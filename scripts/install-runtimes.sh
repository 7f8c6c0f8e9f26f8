#!/bin/bash
# Installs extra OpenCL implementations into project-local prefixes (default .runtimes/, gitignored)
# for the portability pass, without touching the system's ICD list (/etc/OpenCL/vendors) or its
# default device. Each implementation gets its own vendors folder holding one .icd with an absolute
# path, and an environment file <root>/<name>.env that selects it:
#
#   intel    Intel's CPU OpenCL runtime (PyPI intel-opencl-rt + intel-cmplr-lib-rt, its math
#            libraries, which the wheel's metadata does not pull in) in a venv. The wheel's own .icd
#            names a conda placeholder path, so we write one naming <venv>/lib/libintelocl.so.
#   rusticl  Mesa rusticl on llvmpipe (Debian 12 mesa-opencl-icd 22.3.6 + libllvmspirvlib15, and
#            LLVM/Clang 15 if the system lacks them) unpacked with `apt-get download` + `dpkg -x`;
#            needs LD_LIBRARY_PATH=<prefix>/usr/lib/x86_64-linux-gnu for libLLVMSPIRVLib.so.15 and
#            RUSTICL_ENABLE=llvmpipe. Its libclc path (/usr/lib/clc/spirv64-mesa3d-.spv) and clang
#            header path are compiled in, so the data-only package libclc-15 must be installed
#            system-wide (scripts/install-deps.sh does; it registers no ICD).
#   pocl     the system's PoCL, alone in its own vendors folder (no download).
#   oclgrind needs nothing here (tests run it through tests/oclgrind_check.sh).
#
# usage: scripts/install-runtimes.sh [--root DIR] [--print-env] [NAME...]   (default: intel rusticl pocl)
#   --print-env   only print each installed implementation's environment (no install)
# Then, e.g.: (set -a; . .runtimes/intel.env; set +a; cd build && ctest -L portability)
# ISBENCH_DEVICE in the file names the platform, so a test cannot silently run on another
# implementation; scripts/portability.sh runs the whole pass on each.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=$here/.runtimes
print_only=0
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=$2; shift 2 ;;
    --print-env) print_only=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    intel|rusticl|pocl) names+=("$1"); shift ;;
    *) echo "install-runtimes.sh: unknown argument '$1' (give intel, rusticl or pocl)" >&2; exit 2 ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=(intel rusticl pocl)
mkdir -p "$root"
root=$(cd "$root" && pwd)

INTEL_VERSION=2026.2.0
MULTIARCH=x86_64-linux-gnu

# write_env NAME KEY=VALUE...: the environment file (sourceable: KEY='VALUE'), written atomically
write_env() {
  local name=$1 kv; shift
  for kv in "$@"; do printf "%s='%s'\n" "${kv%%=*}" "${kv#*=}"; done > "$root/$name.env.tmp"
  mv "$root/$name.env.tmp" "$root/$name.env"
}

# write_icd NAME LIBRARY: a vendors folder holding only this implementation's .icd
write_icd() {
  mkdir -p "$root/$1/vendors"
  echo "$2" > "$root/$1/vendors/$1.icd"
}

install_intel() {
  local venv=$root/intel/venv
  if [ ! -e "$venv/lib/libintelocl.so" ]; then
    echo "== intel: intel-opencl-rt==$INTEL_VERSION intel-cmplr-lib-rt==$INTEL_VERSION into $venv (~850 MB)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "intel-opencl-rt==$INTEL_VERSION" "intel-cmplr-lib-rt==$INTEL_VERSION"
  fi
  [ -e "$venv/lib/libintelocl.so" ] || { echo "install-runtimes.sh: $venv/lib/libintelocl.so missing after pip install" >&2; return 1; }
  write_icd intel "$venv/lib/libintelocl.so"
  write_env intel "OCL_ICD_VENDORS=$root/intel/vendors" "ISBENCH_DEVICE=Intel(R) OpenCL:"
}

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

install_rusticl() {
  local prefix=$root/rusticl/prefix lib=$root/rusticl/prefix/usr/lib/$MULTIARCH
  if [ ! -e /usr/lib/clc/spirv64-mesa3d-.spv ]; then
    echo "install-runtimes.sh: rusticl needs libclc-15 installed system-wide (its path is compiled into" \
         "libRusticlOpenCL; the package is data only and registers no ICD): run scripts/install-deps.sh" \
         "or apt-get install libclc-15" >&2
    return 1
  fi
  if [ ! -e "$lib/libRusticlOpenCL.so.1.0.0" ]; then
    local pkgs=(mesa-opencl-icd libllvmspirvlib15) p
    for p in libllvm15 libclang-cpp15 libdrm2 libdrm-amdgpu1 libdrm-nouveau2 libdrm-radeon1 libsensors5; do
      is_installed "$p" || pkgs+=("$p")
    done
    echo "== rusticl: ${pkgs[*]} into $prefix"
    local dl
    dl=$(mktemp -d)
    chmod 777 "$dl" # apt's download user must be able to write there
    (cd "$dl" && apt-get download -qq "${pkgs[@]}")
    mkdir -p "$prefix"
    for p in "$dl"/*.deb; do dpkg -x "$p" "$prefix"; done
    rm -rf "$dl"
  fi
  local missing
  missing=$(LD_LIBRARY_PATH=$lib ldd "$lib/libRusticlOpenCL.so.1.0.0" | grep "not found" || true)
  if [ -n "$missing" ]; then
    echo "install-runtimes.sh: libRusticlOpenCL needs libraries that are missing: $missing" >&2
    return 1
  fi
  write_icd rusticl "$lib/libRusticlOpenCL.so.1.0.0"
  write_env rusticl "OCL_ICD_VENDORS=$root/rusticl/vendors" "RUSTICL_ENABLE=llvmpipe" "LD_LIBRARY_PATH=$lib" \
    "ISBENCH_DEVICE=rusticl:llvmpipe"
}

install_pocl() {
  local icd=/etc/OpenCL/vendors/pocl.icd
  [ -e "$icd" ] || { echo "install-runtimes.sh: $icd missing: apt-get install pocl-opencl-icd" >&2; return 1; }
  write_icd pocl "$(cat "$icd")"
  write_env pocl "OCL_ICD_VENDORS=$root/pocl/vendors" "ISBENCH_DEVICE=Portable Computing Language:"
}

for name in "${names[@]}"; do
  [ $print_only -eq 1 ] || "install_$name"
  if [ -e "$root/$name.env" ]; then
    echo "== $name environment ($root/$name.env):"
    sed 's/^/  /' "$root/$name.env"
  else
    echo "== $name: not installed (run scripts/install-runtimes.sh $name)"
  fi
done
