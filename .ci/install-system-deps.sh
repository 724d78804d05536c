#!/bin/sh
# Install the Debian packages the test suite uses, when we can (root + apt-get), and only
# those that are missing. Without them the tests that need them skip with a reason.
#   dicom3tools  dciodvfy, the independent IOD validator of the sample files and SRs
#   dcmtk        dsrdump, the independent SR tree parser
#   poppler-utils pdftoppm and pdftotext, which render and read the report PDF
#   orthanc orthanc-dicomweb  the real PACS of tests/pacs (a private Orthanc per test session,
#                started as a plain process; the package's own service is not used)
#   libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
#                shared libraries Qt 6 loads even on the offscreen platform
set -u
missing=""
command -v dciodvfy >/dev/null 2>&1 || missing="$missing dicom3tools"
command -v dsrdump >/dev/null 2>&1 || missing="$missing dcmtk"
command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || missing="$missing poppler-utils"
[ -x /usr/sbin/Orthanc ] || missing="$missing orthanc"
[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || missing="$missing orthanc-dicomweb"
for lib in libEGL.so.1 libGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3 libglib-2.0.so.0; do
  if ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
    case $lib in
      libEGL.so.1) missing="$missing libegl1" ;;
      libGL.so.1) missing="$missing libgl1" ;;
      libxkbcommon.so.0) missing="$missing libxkbcommon0" ;;
      libfontconfig.so.1) missing="$missing libfontconfig1" ;;
      libdbus-1.so.3) missing="$missing libdbus-1-3" ;;
      libglib-2.0.so.0) missing="$missing libglib2.0-0" ;;
    esac
  fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || echo "warning: could not install$missing; tests that need them will skip" >&2
else
  echo "note: not root or no apt-get; missing Debian packages:$missing (tests that need them skip)" >&2
fi
exit 0
