# Access control through httpd: Require ssl-verify-client plus the
# module's clientregistry-operation / clientregistry-source providers
# (t/conf/extra.conf.in, /fhir-secure on the mod_ssl vhost).  Denials are
# 403 with an OperationOutcome and are audited.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use CR::Test;
use File::Temp qw(tempdir);

plan tests => 35;

sub secure {
    my ($method, $path, $body, $cert, %h) = @_;
    return fhir_request($method, "/fhir-secure$path", $body,
                        module => 'mod_ssl', ($cert ? (cert => $cert) : ()),
                        %h);
}

# --- no certificate ---------------------------------------------------------
my $res = secure('GET', '/metadata', undef, undef);
is($res->code, 403, 'no client certificate: 403');
like($res->header('Content-Type'), qr{^application/fhir\+json},
     'the denial is FHIR JSON');
is_deeply(oo_codes($res), ['forbidden'], 'the denial is an OperationOutcome: forbidden');

# --- read-only source (FHA_MT) ----------------------------------------------
$res = secure('GET', '/metadata', undef, 'client_fha');
is($res->code, 200, 'read-only client: metadata 200');
my $fam = unique_name();
$res = secure('POST', '/Patient', sample_patient(family => $fam), 'client_fha');
is($res->code, 403, 'read-only client: create 403');
is_deeply(oo_codes($res), ['forbidden'], 'read-only client: forbidden');
like(json_of($res)->{issue}[0]{details}{text}, qr/may not make write requests/,
     'the denial says which kind of access was refused');
is(db_row("SELECT COUNT(*) AS n FROM cr_search_index WHERE kind = 'family' AND value = ?",
          lc $fam)->{n}, 0, 'read-only client: nothing stored');

# --- read-write source (VIHA_JOEADT) -----------------------------------------
$res = secure('POST', '/Patient', sample_patient(family => $fam), 'client_viha',
              UserId => 'nurse@VIHA');
is($res->code, 201, 'read-write client: create 201');
my $p = json_of($res);
my $id = $p->{id};
my $v = db_row('SELECT source_system, org_id, user_id, client_dn FROM cr_patient_version WHERE patient_id = ?', $id);
is($v->{source_system}, 'VIHA_JOEADT', 'provenance: mapped source system');
is($v->{org_id}, 'VIHA', 'provenance: mapped organisation');
is($v->{user_id}, 'nurse@VIHA', 'provenance: user');

$res = secure('GET', "/Patient/$id", undef, 'client_fha');
is($res->code, 200, 'read-only client: read 200');
$res = secure('GET', "/Patient?family=$fam", undef, 'client_fha');
is($res->code, 200, 'read-only client: search 200');
delete $p->{meta};
$res = secure('PUT', "/Patient/$id", $p, 'client_fha');
is($res->code, 403, 'read-only client: update 403');
$res = secure('PUT', "/Patient/$id", $p, 'client_viha');
is($res->code, 200, 'read-write client: update 200');

# --- administration ----------------------------------------------------------
$res = secure('GET', "/AuditEvent?patient=$id", undef, 'client_viha');
is($res->code, 403, 'read-write client: AuditEvent 403 (admin only)');
$res = secure('GET', "/AuditEvent?patient=$id", undef, 'client_admin');
is($res->code, 200, 'admin client: AuditEvent 200');
$res = secure('POST', '/AuditEvent/$verify', {}, 'client_viha');
is($res->code, 403, 'read-write client: AuditEvent/$verify 403');

# Deciding on a potential duplicate is an administrator's write.
my $other = json_of(secure('POST', '/Patient', sample_patient(family => unique_name()),
                           'client_viha'))->{id};
my $decide = { resourceType => 'Parameters', parameter => [
    { name => 'patient', valueString => $id },
    { name => 'other', valueString => $other },
    { name => 'resolution', valueCode => 'not-duplicate' } ] };
# The create may have found the pair already (sample demographics): put it
# on the list, open, either way.
db_dbh()->do(q{INSERT INTO cr_match_duplicate (patient_lo, patient_hi,
               score, weight, grade, found, found_by, status) VALUES (?, ?,
               0.9, 10, 'probable', '2026-01-01T00:00:00.000Z', 'create',
               'open') ON CONFLICT DO NOTHING}, undef, sort($id, $other));
db_dbh()->do(q{UPDATE cr_match_duplicate SET status = 'open'
               WHERE patient_lo = ? AND patient_hi = ?}, undef, sort($id, $other));
$res = secure('POST', '/Patient/$resolve-duplicate', $decide, 'client_viha');
is($res->code, 403, 'CR-DUP-040: read-write client: $resolve-duplicate 403');
is_deeply(oo_codes($res), ['forbidden'], 'CR-DUP-040: forbidden');
$res = secure('POST', '/Patient/$resolve-duplicate', $decide, 'client_fha');
is($res->code, 403, 'CR-DUP-040: read-only client: $resolve-duplicate 403');
is(db_row('SELECT status FROM cr_match_duplicate WHERE patient_lo = ? AND patient_hi = ?',
          sort($id, $other))->{status}, 'open', 'CR-DUP-040: the refused decision changed nothing');
$res = secure('POST', '/Patient/$resolve-duplicate', $decide, 'client_admin');
is($res->code, 200, 'CR-DUP-041: admin client: $resolve-duplicate 200');
is(db_row('SELECT status FROM cr_match_duplicate WHERE patient_lo = ? AND patient_hi = ?',
          sort($id, $other))->{status}, 'not-duplicate', 'CR-DUP-041: the decision is stored');
my $ad = db_row("SELECT client_dn, source_system FROM cr_audit WHERE operation"
                . " = 'resolve-duplicate' ORDER BY seq DESC");
is($ad->{source_system}, 'MOH_CRS',
   'CR-DUP-041: audited as the administrator\'s source system');
like($ad->{client_dn}, qr/(^|,)CN=moh-admin,OU=MOH_CRS,/,
     'CR-DUP-041: with the administrator\'s certificate');

# --- an unmapped certificate of the trusted CA ---------------------------------
$res = secure('GET', '/metadata', undef, 'client_ok');
is($res->code, 403, 'a verified but unmapped certificate: 403');

# --- certificates the TLS layer refuses -----------------------------------------
$res = secure('GET', '/metadata', undef, 'client_revoked');
isnt($res->code, 200, 'a revoked certificate (CRL) gets no answer');
like($res->code, qr/^(403|500)$/, 'revoked: refused in the handshake or with 403');

my $dir = tempdir(CLEANUP => 1);
system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
       '-subj', '/CN=fha-meditech/OU=FHA_MT/O=FHA', '-keyout', "$dir/k.pem",
       '-out', "$dir/c.pem") == 0 or die 'openssl failed';
my $vars = Apache::Test::vars();
my $ua = LWP::UserAgent->new(ssl_opts => {
    SSL_ca_file => "$vars->{sslca}/$vars->{sslcaorg}/certs/ca.crt",
    SSL_cert_file => "$dir/c.pem", SSL_key_file => "$dir/k.pem",
    verify_hostname => 0 });
my $url = Apache::TestRequest::module2url('mod_ssl', { scheme => 'https',
                                                       path => '/fhir-secure/metadata' });
$res = $ua->get($url);
isnt($res->code, 200, 'a certificate from an unknown CA (same subject) gets no answer');
ok($res->code == 500 || $res->code == 403,
   'unknown CA: refused in the handshake or with 403');

# --- denials are audited -----------------------------------------------------------
sleep 1;    # the batch writer flushes every 200 ms
my $denied = db_rows("SELECT * FROM cr_audit WHERE status = 403 AND path LIKE '/fhir-secure/%'");
ok(scalar(@$denied) >= 5, 'denied requests are in the audit trail');
my ($ro) = grep { ($_->{source_system} // '') eq 'FHA_MT' && $_->{method} eq 'POST' } @$denied;
ok($ro, 'the read-only client\'s denied create is audited with its source system');
is($ro->{operation}, 'denied', 'and recorded as denied');
