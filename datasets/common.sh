# Shared by datasets/get-*.sh: HTTPS download with a clear offline message, md5 checks, and the
# usage/argument handling. Sourced, not run. Each script sets NAME, FOLDER and its checksums.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "$(basename "$0"): error: $*" >&2; exit 1; }

md5_of() { md5sum "$1" | cut -d' ' -f1; }

# check_md5 FILE WANT: prints a line per file; returns 1 on a mismatch or a missing file.
check_md5() {
  local file=$1 want=$2 got
  if [ ! -f "$file" ]; then echo "MISSING  $file"; return 1; fi
  got=$(md5_of "$file")
  if [ "$got" = "$want" ]; then echo "ok       $file  md5 $got"; return 0; fi
  echo "BAD MD5  $file  md5 $got, expected $want"
  return 1
}

# download URL OUT: HTTPS only; on failure explain how to proceed without network.
download() {
  local url=$1 out=$2
  command -v curl >/dev/null || die "curl is not installed (apt-get install curl)"
  echo "downloading $url"
  if ! curl -fsSL --proto '=https' --tlsv1.2 --retry 2 --connect-timeout 20 -o "$out.part" "$url"; then
    rm -f "$out.part"
    die "cannot download $url (no network, or the server refused).
  If you have the $NAME files already, point isbench at them with --data DIR (or ISBENCH_DATA=DIR)
  and check them with: $0 --verify DIR"
  fi
  mv "$out.part" "$out"
}

usage() {
  cat <<USAGE
usage: $0 [DEST]            download the official $NAME archive over HTTPS, check its md5,
                              extract it and check every file (default DEST: data/$FOLDER)
       $0 --verify DIR      check an existing $NAME folder offline (no download)
USAGE
}

# Sets MODE (download|verify) and DEST from the arguments.
parse_args() {
  MODE=download
  DEST="$REPO_ROOT/data/$FOLDER"
  case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    --verify) [ $# -eq 2 ] || { usage >&2; exit 2; }; MODE=verify; DEST=$2 ;;
    -*) echo "$0: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    "") ;;
    *) [ $# -eq 1 ] || { usage >&2; exit 2; }; DEST=$1 ;;
  esac
}

# verify_files DIR "md5 name" ...: every listed file must match; prints a summary line.
verify_files() {
  local dir=$1; shift
  [ -d "$dir" ] || die "$dir is not a folder. Download $NAME with $0, or give the folder that holds its files"
  local bad=0 line
  for line in "$@"; do
    check_md5 "$dir/${line#* }" "${line%% *}" || bad=$((bad + 1))
  done
  if [ "$bad" -ne 0 ]; then
    echo "$NAME in $dir: $bad file(s) missing or corrupt. Re-download with $0" >&2
    return 1
  fi
  echo "$NAME in $dir: all $# files verified"
}

# fetch_archive URL MD5 TMPDIR: downloads the archive into TMPDIR and checks its md5; sets ARCHIVE.
fetch_archive() {
  local url=$1 want=$2 tmp=$3 archive
  archive="$tmp/$(basename "$url")"
  download "$url" "$archive"
  check_md5 "$archive" "$want" || die "the downloaded archive is corrupt (md5 mismatch): run $0 again"
  ARCHIVE=$archive
}

# get_tar_dataset URL ARCHIVE_MD5 MEMBER_DIR: the whole flow of a tar.gz dataset (CIFAR): verify
# offline with --verify, skip when already verified, else download, check the archive md5,
# extract, check every file of FILES ("md5 name" entries) and move MEMBER_DIR into place.
get_tar_dataset() {
  local url=$1 archive_md5=$2 member=$3 tmp
  if [ "$MODE" = verify ]; then verify_files "$DEST" "${FILES[@]}"; exit; fi
  if [ -d "$DEST" ] && verify_files "$DEST" "${FILES[@]}" >/dev/null 2>&1; then
    echo "$NAME already present and verified in $DEST"; exit 0
  fi
  mkdir -p "$(dirname "$DEST")"
  tmp=$(mktemp -d "$(dirname "$DEST")/.get-$FOLDER.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  fetch_archive "$url" "$archive_md5" "$tmp"
  tar -xzf "$ARCHIVE" -C "$tmp"
  verify_files "$tmp/$member" "${FILES[@]}"
  rm -rf "$DEST"
  mv "$tmp/$member" "$DEST"
  echo "$NAME ready in $DEST"
}

# ---- IDX datasets (MNIST, Fashion-MNIST): four files kept as downloaded (.gz; isbench reads them
# directly). A file passes if NAME.gz has the official md5, or if its decompressed content (from
# NAME.gz or a plain NAME) has the expected content md5 or, where that is unknown, the exact size.
# Callers fill IDX_FILES (names), GZ_MD5, RAW_MD5 (may be empty) and RAW_SIZE (associative arrays).
IDX_FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A GZ_MD5 RAW_MD5 RAW_SIZE

check_idx_file() {
  local dir=$1 name=$2 gz="$1/$2.gz" plain="$1/$2" got size
  if [ -f "$gz" ] && [ "$(md5_of "$gz")" = "${GZ_MD5[$name]}" ]; then
    echo "ok       $gz  md5 ${GZ_MD5[$name]} (official archive)"; return 0
  fi
  local src=$gz
  [ -f "$gz" ] || src=$plain
  [ -f "$src" ] || { echo "MISSING  $plain(.gz)"; return 1; }
  got=$(gzip -dcf "$src" | md5sum | cut -d' ' -f1)
  size=$(gzip -dcf "$src" | wc -c)
  if [ -n "${RAW_MD5[$name]:-}" ]; then
    if [ "$got" = "${RAW_MD5[$name]}" ]; then echo "ok       $src  content md5 $got"; return 0; fi
    echo "BAD MD5  $src  content md5 $got, expected ${RAW_MD5[$name]}"; return 1
  fi
  if [ "$size" = "${RAW_SIZE[$name]}" ]; then
    echo "ok?      $src  $size bytes as expected (no published md5 for the uncompressed file)"; return 0
  fi
  echo "BAD SIZE $src  $size bytes uncompressed, expected ${RAW_SIZE[$name]}"; return 1
}

verify_idx() {
  local dir=$1 bad=0 name
  [ -d "$dir" ] || die "$dir is not a folder. Download $NAME with $0, or give the folder that holds its files"
  for name in "${IDX_FILES[@]}"; do check_idx_file "$dir" "$name" || bad=$((bad + 1)); done
  if [ "$bad" -ne 0 ]; then
    echo "$NAME in $dir: $bad file(s) missing or corrupt. Re-download with $0" >&2
    return 1
  fi
  echo "$NAME in $dir: all ${#IDX_FILES[@]} files verified"
}

# get_idx BASE_URL: downloads the four .gz files into a temporary folder, checks each against the
# official md5, then moves them into DEST.
get_idx() {
  local base=$1 name tmp
  mkdir -p "$(dirname "$DEST")"
  tmp=$(mktemp -d "$(dirname "$DEST")/.get-$FOLDER.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  for name in "${IDX_FILES[@]}"; do
    download "$base/$name.gz" "$tmp/$name.gz"
    check_md5 "$tmp/$name.gz" "${GZ_MD5[$name]}" || die "$name.gz is corrupt (md5 mismatch): run $0 again"
  done
  mkdir -p "$DEST"
  for name in "${IDX_FILES[@]}"; do mv "$tmp/$name.gz" "$DEST/$name.gz"; done
  echo "$NAME ready in $DEST"
}
