# OAuth2 bearer tokens through mod_auth_openidc (AuthType oauth20, local
# validation against the signing key's certificate) and the module's
# claim checks (CR-GEN-031): a missing or bad token is 401 with
# WWW-Authenticate and an OperationOutcome (login), and nothing else
# happens; a valid token without the scope for the request is 403
# (forbidden); the token's client maps to organisation and source system
# like a certificate.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64);
use FindBin;

plan tests => 39, need_module('auth_openidc');

my $top = "$FindBin::Bin/../..";
my $conf = Apache::Test::vars('t_conf');
sub token {
    my ($env, @args) = @_;
    local $ENV{CR_TOKEN_KEY} = $env->{key} // "$conf/oauth/signing.key";
    local $ENV{CR_TOKEN_TTL} = $env->{ttl} if defined $env->{ttl};
    local $ENV{CR_TOKEN_NBF} = $env->{nbf} if defined $env->{nbf};
    local $ENV{CR_TOKEN_AUD} = $env->{aud} if defined $env->{aud};
    local $ENV{CR_TOKEN_ISS} = $env->{iss} if defined $env->{iss};
    my $t = `sh $top/tools/cr-token @args`;
    chomp $t;
    return $t;
}
sub b64url { my $s = encode_base64(shift, ''); $s =~ tr{+/}{-_}; $s =~ s/=+$//; $s }
sub jwt_parts { split /\./, shift }

sub req {
    my ($method, $path, $token, $body, %h) = @_;
    $h{Authorization} = $token =~ /^(Bearer|Basic) / ? $token
                                                     : "Bearer $token"
        if defined $token;
    return fhir_request($method, "/fhir/$path", $body, module => 'cr_oauth',
                        %h);
}
sub patients { db_row('SELECT COUNT(*) AS n FROM cr_patient')->{n} }
sub audits { db_row('SELECT COUNT(*) AS n FROM cr_patient_version')->{n} }

my $good = token({}, 'readwrite', 'system/Patient.read',
                 'system/Patient.write');
my ($h, $p, $s) = jwt_parts($good);
my $now = time;
my $claims = sprintf '{"iss":"https://127.0.0.1:8444/cr-token","sub":'
    . '"readwrite","aud":"https://127.0.0.1:8444/fhir","client_id":'
    . '"readwrite","scope":"system/Patient.read system/Patient.write",'
    . '"iat":%d,"exp":%d}', $now, $now + 600;
my $pem = do { local $/; open my $fh, '<', "$conf/oauth/signing.crt"
                   or die "$!"; <$fh> };
my %bad = (
    'no token' => undef,
    'expired' => token({ ttl => -120 }, 'readwrite', 'system/Patient.write'),
    'not yet valid' => token({ nbf => 3600 }, 'readwrite',
                             'system/Patient.write'),
    'wrong signature (another key)' => token(
        { key => "$conf/oauth/other/signing.key" }, 'readwrite',
        'system/Patient.write'),
    'wrong audience' => token({ aud => 'https://elsewhere.example.org/fhir' },
                              'readwrite', 'system/Patient.write'),
    'wrong issuer' => token({ iss => 'https://evil.example.org' },
                            'readwrite', 'system/Patient.write'),
    'alg none' => join('.', b64url('{"alg":"none","typ":"JWT"}'),
                       b64url($claims), ''),
    'RS/HS confusion (HS256 keyed with the public certificate)' => do {
        my $in = b64url('{"alg":"HS256","typ":"JWT"}') . '.' . b64url($claims);
        "$in." . b64url(hmac_sha256($in, $pem));
    },
    'a tampered payload' => join('.', $h, b64url($claims =~ s/readwrite/admin/gr), $s),
    'garbage' => 'not.a.jwt',
    'Basic instead of Bearer' => 'Basic ' . encode_base64('readwrite:x', ''),
    'a 7 KB token' => 'x' x 7000,
);
my $before = patients();
for my $name (sort keys %bad) {
    my $res = req('POST', 'Patient', $bad{$name}, sample_patient());
    is($res->code, 401, "$name: 401");
    ok(($res->header('WWW-Authenticate') // '') =~ /^Bearer/
       && oo_codes($res)->[0] eq 'login',
       "$name: WWW-Authenticate Bearer and an OperationOutcome (login)");
}
is(patients(), $before, 'the refused requests created nothing');

# 64 KB: httpd refuses the header line itself (LimitRequestFieldSize),
# before any authentication: 400 and nothing else.
my $res = req('GET', 'Patient?family=x', 'y' x 65536);
is($res->code, 400, 'a 64 KB Authorization header: 400 from httpd (field '
   . 'size limit), before authentication');
is(patients(), $before, 'and nothing happened');

# A valid token.
$res = req('POST', 'Patient', $good, sample_patient(), UserId => 'jdoe@VIHA');
is($res->code, 201, 'a valid token with system/Patient.write: create 201');
my $id = json_of($res)->{id};
my $v = db_row('SELECT client_dn, org_id, source_system FROM '
               . 'cr_patient_version WHERE patient_id = ?', $id);
is_deeply([ @$v{qw(client_dn org_id source_system)} ],
          [ 'bearer token of readwrite', 'VIHA', 'VIHA_JOEADT' ],
          'the token\'s client maps to organisation and source like the '
          . 'certificate of the same name');
$res = req('GET', "Patient/$id", $good);
is($res->code, 200, 'and reads: 200');

# Valid, but not allowed: 403 with an OperationOutcome (forbidden).
my $ro = token({}, 'readonly', 'system/Patient.read');
$res = req('GET', "Patient/$id", $ro);
is($res->code, 200, 'readonly with system/Patient.read: read 200');
$res = req('POST', 'Patient', $ro, sample_patient());
is($res->code, 403, 'readonly with system/Patient.read: create 403');
is(oo_codes($res)->[0], 'forbidden', 'with an OperationOutcome (forbidden)');
is($res->header('WWW-Authenticate'), undef, 'and no WWW-Authenticate');
my $none = token({}, 'readwrite', 'openid');
$res = req('GET', "Patient/$id", $none);
is($res->code, 403, 'a token without a registry scope: read 403');
$res = req('GET', 'AuditEvent', $good);
is($res->code, 403, 'readwrite: the audit trail (admin) 403');
my $admin = token({}, 'admin', 'system/Patient.write');
$res = req('GET', 'AuditEvent?_count=1', $admin);
is($res->code, 200, 'admin with system/Patient.write: the audit trail 200');
my $stranger = token({}, 'stranger', 'system/Patient.write');
$res = req('GET', 'AuditEvent?_count=1', $stranger);
is($res->code, 403, 'an unmapped client: the audit trail (MOH_CRS only) 403');
is(patients(), $before + 1, 'only the allowed create created a client');
