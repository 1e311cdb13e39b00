#!/bin/sh
# make-pki.sh: a local test PKI for ./quickstart serve --tls, made with the
# openssl command line.  Never use it outside a developer's machine: the
# CA key sits next to the certificates, unencrypted.
#
#   tools/make-pki.sh [DIR]          (default: var/pki)
#
# Creates, once (files that exist are kept, so running it again changes
# nothing):
#   ca.crt ca.key            the test CA ("CN=Client Registry Test CA")
#   ca.crl                   its CRL, listing revoked.crt
#   server.crt server.key    CN=localhost, SAN localhost and 127.0.0.1
#   readonly.crt/.key        CN=readonly,OU=FHA_MT,O=FHA        (source system
#                            FHA_MT of organisation FHA)
#   readwrite.crt/.key       CN=readwrite,OU=VIHA_JOEADT,O=VIHA
#   admin.crt/.key           CN=admin,OU=MOH_CRS,O=MOH
#   revoked.crt/.key         CN=revoked,OU=FHA_MT,O=FHA          (revoked)
# and ca/ (the openssl ca database: index, serial, CRL number).  Keys are
# EC P-256, mode 0600; certificates last 825 days, the CA and the CRL
# ten years.  Delete DIR to start again.
set -eu
umask 077
DIR=${1:-var/pki}
DAYS=825
CA_DAYS=3650

command -v openssl >/dev/null 2>&1 || {
    echo "make-pki.sh: openssl is not installed" >&2; exit 1; }
mkdir -p "$DIR/ca/new"
DIR=$(cd "$DIR" && pwd)
say() { printf 'make-pki: %s\n' "$*" >&2; }

# The openssl ca configuration: a database, so that certificates can be
# revoked and the CRL generated.
cnf="$DIR/ca/openssl.cnf"
if [ ! -f "$cnf" ]; then
    cat > "$cnf" <<EOF
# Written by tools/make-pki.sh.
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $DIR/ca
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $DIR/ca.crt
private_key = $DIR/ca.key
default_md = sha256
default_days = $DAYS
default_crl_days = $CA_DAYS
policy = policy_any
unique_subject = no
copy_extensions = copy
email_in_dn = no
[ policy_any ]
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[ v3_client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    : > "$DIR/ca/index.txt"
    echo "unique_subject = no" > "$DIR/ca/index.txt.attr"
    echo 1000 > "$DIR/ca/serial"
    echo 1000 > "$DIR/ca/crlnumber"
fi

newkey() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$1" 2>/dev/null
    chmod 600 "$1"
}

if [ ! -f "$DIR/ca.crt" ] || [ ! -f "$DIR/ca.key" ]; then
    say "creating the test CA in $DIR"
    newkey "$DIR/ca.key"
    openssl req -new -x509 -config "$cnf" -extensions v3_ca \
        -key "$DIR/ca.key" -days "$CA_DAYS" -sha256 \
        -subj "/O=Client Registry Test/CN=Client Registry Test CA" \
        -out "$DIR/ca.crt"
    chmod 644 "$DIR/ca.crt"
    # A new CA invalidates everything it did not sign.
    rm -f "$DIR/ca.crl" "$DIR"/server.crt "$DIR"/readonly.crt \
        "$DIR"/readwrite.crt "$DIR"/admin.crt "$DIR"/revoked.crt
fi

# issue NAME SUBJECT EXTENSIONS
issue() {
    [ -f "$DIR/$1.crt" ] && [ -f "$DIR/$1.key" ] && return 0
    say "issuing $1.crt ($2)"
    newkey "$DIR/$1.key"
    openssl req -new -config "$cnf" -key "$DIR/$1.key" -subj "$2" \
        -out "$DIR/ca/$1.csr"
    openssl ca -batch -notext -config "$cnf" -extensions "$3" \
        -in "$DIR/ca/$1.csr" -out "$DIR/$1.crt" 2>/dev/null
    chmod 644 "$DIR/$1.crt"
    rm -f "$DIR/ca/$1.csr"
    # A re-issued certificate needs a fresh CRL.
    rm -f "$DIR/ca.crl"
}

issue server "/CN=localhost" v3_server
issue readonly "/O=FHA/OU=FHA_MT/CN=readonly" v3_client
issue readwrite "/O=VIHA/OU=VIHA_JOEADT/CN=readwrite" v3_client
issue admin "/O=MOH/OU=MOH_CRS/CN=admin" v3_client
issue revoked "/O=FHA/OU=FHA_MT/CN=revoked" v3_client

if [ ! -f "$DIR/ca.crl" ]; then
    serial=$(openssl x509 -in "$DIR/revoked.crt" -noout -serial | cut -d= -f2)
    if ! grep -q "^R.*	$serial	" "$DIR/ca/index.txt"; then
        say "revoking revoked.crt (serial $serial)"
        openssl ca -batch -config "$cnf" -revoke "$DIR/revoked.crt" \
            -crl_reason keyCompromise 2>/dev/null
    fi
    say "writing the CRL"
    openssl ca -batch -config "$cnf" -gencrl -out "$DIR/ca.crl" 2>/dev/null
    chmod 644 "$DIR/ca.crl"
fi
exit 0
