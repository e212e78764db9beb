# Shared by scripts/run and scripts/test: install what is missing, as root on Debian.

# apt_install PKG...: installs the packages that are not installed yet.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# What the crate needs to build: OpenSSL, libpq for Diesel's PostgreSQL backend, and libxml2,
# libxmlsec1 and libclang for samael's xmlsec bindings (SAML signature checks).
BUILD_PACKAGES=(pkg-config libssl-dev libpq-dev libxml2-dev libxmlsec1-dev libclang-dev)
