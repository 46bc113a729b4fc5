# Shared by the Linux peers (tools/linux-peer/run, tools/linux-peer/net);
# sourced, not run. It defines:
#
#   root, out            the checkout and target/linux-peer/
#   say, die             messages prefixed with $peer_name (set it first)
#   paddock_cpu          paddock's QEMU CPU model
#   host_tools CMD=PKG.. install, with apt-get, the Debian packages of
#                        the commands missing on the host (with sudo when
#                        not root); qemu-system-x86_64, gzip, awk,
#                        sha256sum, timeout, flock and dpkg-deb are always
#                        checked
#   lock_peer            one peer at a time per checkout (they share
#                        target/linux-peer/)
#   fetch_peer           the kernel and busybox from Debian's archive (see
#                        below); sets kpkg kver bver kdir bdir busybox krel
#                        vmlinuz config moddir. Reads $refresh (1: ask apt
#                        again).
#   cfg NAME             CONFIG_NAME of the kernel's config
#   resolve_modules M..  the load order of modules M (and what they depend
#                        on) from modules.dep: sets order (names),
#                        dep_path (name -> path under $moddir), builtin
#                        (those built in), modules_note and builtin_note
#                        (for reports; the symbol array, name -> config
#                        symbol, adds "(CONFIG_X=m)" where it names one)
#   write_initramfs DIR FILE
#                        DIR as a gzipped cpio "newc" archive, written with
#                        fixed inode numbers, owners, times and order, so
#                        the same files give the same archive byte for byte
#
# Everything comes from Debian's archive through apt: the kernel package
# (linux-image-cloud-amd64 resolved to the versioned package it depends on)
# and busybox-static are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` under target/linux-peer/, never installed on the host. The
# kernel package ships no modules.dep: busybox's depmod makes one inside
# the unpacked tree. A second run fetches nothing:
# target/linux-peer/packages names the packages fetched the first time.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/target/linux-peer"
: "${peer_name:=linux-peer}"

say() { echo "$peer_name: $*" >&2; }
die() { say "error: $*"; exit 1; }

# paddock's CPU model (tools/paddock/src/qemu.rs), so both guests see the
# same instruction set.
paddock_cpu="Nehalem,-vme,+pdpe1gb,-xsave,-xsaveopt,-xsavec,-fsgsbase,-invpcid,enforce"

# ---------------------------------------------------------------- host tools
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || sudo=missing
  [ "$sudo" = missing ] || sudo=sudo
fi
need_root() {
  [ "$sudo" != missing ] || die "need root or sudo to $*"
}
host_tools() {
  declare -A debian=(
    [qemu-system-x86_64]=qemu-system-x86
    [gzip]=gzip
    [awk]=mawk
    [sha256sum]=coreutils
    [timeout]=coreutils
    [flock]=util-linux
    [dpkg-deb]=dpkg
  )
  local pair cmd
  for pair in "$@"; do debian[${pair%%=*}]="${pair#*=}"; done
  command -v apt-get >/dev/null || die "needs Debian's apt-get"
  local missing=()
  for cmd in "${!debian[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${debian[$cmd]}")
  done
  if ((${#missing[@]})); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    need_root "install ${missing[*]}"
    say "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    for cmd in "${!debian[@]}"; do
      command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing ${debian[$cmd]}"
    done
  fi
}

lock_peer() {
  mkdir -p "$out"
  exec 9> "$out/lock"
  flock 9
}

# ------------------------------------------------- kernel and busybox (apt)
# The packages are fetched once into target/linux-peer/debs and named in
# target/linux-peer/packages; later runs use them without asking apt.
fetch_peer() {
  mkdir -p "$out/debs"
  local pkgfile="$out/packages" name ver kdep
  have_cached() {
    [ -s "$pkgfile" ] || return 1
    local name ver
    while read -r name ver; do
      compgen -G "$out/debs/${name}_*_amd64.deb" >/dev/null || return 1
    done < "$pkgfile"
  }
  candidate_stanza() { apt-cache show --no-all-versions "$1" 2>/dev/null || true; }
  if [ "${refresh:-0}" = 1 ] || ! have_cached; then
    if [ -z "$(candidate_stanza linux-image-cloud-amd64)" ] || [ -z "$(candidate_stanza busybox-static)" ]; then
      need_root "update apt's package lists"
      say "updating apt's package lists"
      $sudo apt-get update -qq
    fi
    # linux-image-cloud-amd64 is a metapackage; the kernel is in the
    # versioned package it depends on, e.g. linux-image-6.1.0-56-cloud-amd64.
    kdep=$(candidate_stanza linux-image-cloud-amd64 | sed -n 's/^Depends: *//p' | tr ',' '\n' \
      | sed -n 's/^ *\(linux-image-[0-9][^ ]*-cloud-amd64\) *(= *\([^)]*\)).*/\1 \2/p' | head -n1)
    [ -n "$kdep" ] || die "cannot resolve linux-image-cloud-amd64 to a versioned kernel package"
    bver=$(candidate_stanza busybox-static | sed -n 's/^Version: *//p' | head -n1)
    [ -n "$bver" ] || die "no busybox-static in apt's lists"
    printf '%s\nbusybox-static %s\n' "$kdep" "$bver" > "$pkgfile.new"
    rm -f "$out"/debs/*.deb
    while read -r name ver; do
      say "fetching $name $ver"
      # apt-get download checks the file against the archive's signed lists.
      # As root it warns that its sandbox user cannot write here; harmless.
      (cd "$out/debs" && apt-get download -q "$name=$ver" 2>&1) > "$out/apt.log" \
        || { cat "$out/apt.log" >&2; die "apt-get download $name=$ver failed"; }
    done < "$pkgfile.new"
    mv "$pkgfile.new" "$pkgfile"
  fi
  kpkg=$(sed -n 1p "$pkgfile" | cut -d' ' -f1)
  kver=$(sed -n 1p "$pkgfile" | cut -d' ' -f2)
  bver=$(sed -n 2p "$pkgfile" | cut -d' ' -f2)
  local kdeb bdeb
  kdeb=$(compgen -G "$out/debs/${kpkg}_*_amd64.deb" | head -n1)
  bdeb=$(compgen -G "$out/debs/busybox-static_*_amd64.deb" | head -n1)
  kdir=$(unpack_deb "$kdeb")
  bdir=$(unpack_deb "$bdeb")
  busybox="$bdir/bin/busybox"
  [ -x "$busybox" ] || die "no bin/busybox in $bdeb"
  krel=$(basename "$(compgen -G "$kdir/lib/modules/*" | head -n1)")
  vmlinuz="$kdir/boot/vmlinuz-$krel"
  config="$kdir/boot/config-$krel"
  [ -f "$vmlinuz" ] && [ -f "$config" ] || die "no vmlinuz or config for $krel in $kdeb"
  moddir="$kdir/lib/modules/$krel"
  # The package carries no modules.dep (depmod makes it on installation):
  # make it inside the unpacked tree with busybox's depmod.
  if [ ! -s "$moddir/modules.dep" ]; then
    "$busybox" depmod -b "$kdir" "$krel"
  fi
}

# Unpacked once per package file: target/linux-peer/unpacked/<deb name>/.
unpack_deb() {
  local deb="$1" dir
  dir="$out/unpacked/$(basename "$deb" .deb)"
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# ----------------------------------------------------------- kernel modules
cfg() { sed -n "s/^CONFIG_$1=//p" "$config" | tr -d '"'; }

declare -A symbol=()
resolve_modules() {
  # modules.dep: "kernel/a/b.ko: kernel/c.ko kernel/d.ko" (dependencies of
  # b, the last one to load first).
  declare -gA dep_path=() dep_list=() placed=()
  order=()
  builtin=()
  local line path name m s
  while IFS= read -r line; do
    path="${line%%:*}"
    name=$(basename "$path" .ko)
    name="${name//-/_}"
    dep_path[$name]="$path"
    dep_list[$name]="${line#*:}"
  done < "$moddir/modules.dep"
  for m in "$@"; do
    if [ -n "${dep_path[$m]:-}" ]; then
      place_module "$m"
    elif grep -q "/$m\.ko\$" "$moddir/modules.builtin"; then
      builtin+=("$m")
    else
      die "$m is neither a module nor built into $krel"
    fi
  done
  modules_note=""
  for m in "${order[@]}"; do
    s="${symbol[$m]:-}"
    modules_note+="$m${s:+ (CONFIG_$s=$(cfg "$s"))}, "
  done
  builtin_note=""
  for m in "${builtin[@]}"; do builtin_note+="$m, "; done
}
place_module() {
  local name="$1" dname i
  [ -z "${placed[$name]:-}" ] || return 0
  placed[$name]=1
  local deps=(${dep_list[$name]})
  for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
    dname=$(basename "${deps[$i]}" .ko)
    place_module "${dname//-/_}"
  done
  order+=("$name")
}

# ---------------------------------------------------------------- initramfs
# newc: "070701", 13 fields of 8 hex digits (ino, mode, uid, gid, nlink,
# mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize with
# its NUL, check), the name; header+name and data each padded to 4 bytes.
pad4() { head -c $(( (4 - $1 % 4) % 4 )) /dev/zero; }
newc_entry() { # ino mode nlink size name
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
    "$1" "$2" 0 0 "$3" 0 "$4" 0 0 0 0 $(( ${#5} + 1 )) 0 "$5"
  pad4 $(( 110 + ${#5} + 1 ))
}
newc_archive() { # from the current folder, paths on stdin
  local ino=0 path perm size
  while IFS= read -r path; do
    ino=$((ino + 1))
    if [ -d "$path" ]; then
      newc_entry "$ino" $(( 0040755 )) 2 0 "${path#./}"
    else
      perm=$(stat -c %a "$path")
      size=$(stat -c %s "$path")
      newc_entry "$ino" $(( 0100000 | 8#$perm )) 1 "$size" "${path#./}"
      cat "$path"
      pad4 "$size"
    fi
  done
  newc_entry 0 0 1 0 "TRAILER!!!"
}
write_initramfs() { # DIR FILE
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | newc_archive | gzip -9 -n) > "$2.new"
  mv "$2.new" "$2"
}
