# Hostile input (docs/security.md, table "Hostile input"): the rows of the
# table that a test can assert quickly.  SQL injection in every search
# parameter the CapabilityStatement lists and in ids leaves every table
# as it was; path traversal in ids never reaches a file; CR/LF in the
# Request-Id and UserId headers never comes back as a response header;
# oversized, deeply nested and invalid UTF-8 requests are refused with an
# OperationOutcome.  Slow bodies need mod_reqtimeout and tens of seconds:
# they are measured by hand (docs/security.md).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use URI::Escape qw(uri_escape_utf8);
use CR::Test;

my @payloads = (
    q{' OR '1'='1},
    q{'; DROP TABLE cr_patient;--},
    q{1) UNION SELECT sqlite_version()--},
);

# The search parameters the server says it supports.
my $cs = json_of(fhir_get('/fhir/metadata'));
my ($patient_rest) = grep { $_->{type} eq 'Patient' }
                     @{ $cs->{rest}[0]{resource} || [] };
my @params = map { $_->{name} } @{ $patient_rest->{searchParam} || [] };

plan tests => 2 + 2 * @params * @payloads + 4 + 2 * 10 + 10 + 10;

# --- set-up: one patient and the state of every table -----------------------
my $family = unique_name('Hostile');
my ($res, $p) = create_patient(family => $family);
is($res->code, 201, 'SEC-00: set-up patient created');
ok(scalar @params >= 10, 'SEC-00: the CapabilityStatement lists the '
   . 'search parameters (' . join(' ', @params) . ')');

sub db_state {
    my $dbh = db_dbh();
    my %n;
    my $tables = db_tables();
    for my $t (@$tables) {
        $n{$t} = $dbh->selectrow_array("SELECT COUNT(*) FROM $t");
    }
    # The audit trail grows with every request; everything else must not.
    delete @n{grep { /audit/ } keys %n};
    return \%n;
}
my $before = db_state();


sub get_raw {
    my ($path, @headers) = @_;
    return raw_request("GET $path HTTP/1.1\r\nHost: localhost\r\n"
                       . join('', map { "$_\r\n" } @headers)
                       . "Accept: application/fhir+json\r\n"
                       . "Connection: close\r\n\r\n");
}

# What a search answered: "200 total=N" or "400 code,code".
sub outcome_of {
    my $r = shift;
    my $d = json_of($r) || {};
    return $r->code . ' total=' . ($d->{total} // '?')
        if ($d->{resourceType} // '') eq 'Bundle';
    return $r->code . ' ' . join(',', map { (split /@/)[0] }
                                      @{ oo_codes($r) });
}

# --- SQL injection in every search parameter ---------------------------------
for my $param (@params) {
    for my $v (@payloads) {
        my $r = fhir_get('/fhir/Patient?' . $param . '='
                         . uri_escape_utf8($v));
        my $o = outcome_of($r);
        like($o, qr/^(?:200 total=0|400 (?:value|code-invalid|invalid|too-long|not-supported)(?:,\S+)?)$/,
             "SEC-01: $param=$v: no match or a refusal (got $o)");
        ok(($r->content // '') !~ /syntax error|no such (?:table|column)|unrecognized token|SQLITE_[A-Z]|near "/,
           "SEC-01: $param=$v: no database error text in the response");
    }
}
is(outcome_of(fhir_get('/fhir/Patient?_id=' . uri_escape_utf8($payloads[0]))),
   '200 total=0', 'SEC-01: _id with a quote is a value like any other');
is(outcome_of(fhir_get('/fhir/Patient?gender=' . uri_escape_utf8($payloads[1]))),
   '400 code-invalid', 'SEC-01: gender takes only its codes');
is(outcome_of(fhir_get('/fhir/Patient?birthdate=' . uri_escape_utf8($payloads[2]))),
   '400 value', 'SEC-01: birthdate takes only dates');
is_deeply(db_state(), $before,
          'SEC-01: every table has the rows it had before the injections');

# --- SQL injection and path traversal in ids ---------------------------------
# [path, status, OperationOutcome code or undef for an httpd page].  A
# path that leaves /fhir once normalised is httpd's: 403 where the
# document root is denied (quickstart), 404 in the test server.
my @ids = (
    [ "/fhir/Patient/'%20OR%20'1'='1", 400, 'value' ],
    [ '/fhir/Patient/x%27%3B%20DROP%20TABLE%20cr_patient%3B--', 400,
      'value' ],
    [ '/fhir/Patient/..%2F..%2F..%2Fetc%2Fpasswd', 404, undef ],
    [ '/fhir/Patient/..%252F..%252Fetc%252Fpasswd', 400, 'value' ],
    [ '/fhir/Patient/../../etc/passwd', '403|404', undef ],
    [ '/fhir/Patient/%2e%2e/%2e%2e/etc/passwd', '403|404', undef ],
    [ '/fhir/Patient/../../../../etc/passwd', 400, undef ],
    [ '/fhir/Patient/%00', 404, undef ],
    [ "/fhir/Patient/$p->{id}%00", 404, undef ],
    [ '/fhir/Patient/%C3%28', 400, 'value' ],
);
for my $c (@ids) {
    my ($path, $status, $code) = @$c;
    my $r = get_raw($path);
    like($r->code, qr/^(?:$status)$/, "SEC-02: GET $path: $status");
    my $body = $r->content // '';
    if (defined $code) {
        ok($body !~ /root:/ && (oo_codes($r)->[0] // '') =~ /^\Q$code\E\b/,
           "SEC-02: GET $path: OperationOutcome '$code', no file content");
    }
    else {
        ok($body !~ /root:|daemon:/,
           "SEC-02: GET $path: refused by httpd, no file content");
    }
}

# --- CR/LF and bytes in request headers ---------------------------------------
my $r = get_raw('/fhir/metadata', 'Request-Id: abc', 'Set-Cookie: evil=1');
is($r->code, 200, 'SEC-03: Request-Id followed by a Set-Cookie line: 200');
is($r->header('X-Request-Id'), 'abc',
   'SEC-03: only the Request-Id value comes back as X-Request-Id');
ok(!defined $r->header('Set-Cookie'),
   'SEC-03: the injected line is not a response header');
$r = get_raw('/fhir/metadata', 'Request-Id: abc%0d%0aSet-Cookie:%20evil=1');
like($r->header('X-Request-Id') // '', qr/^[0-9a-f-]{36}$/,
     'SEC-03: an encoded CR/LF in Request-Id: not echoed, a UUID instead');
ok(!defined $r->header('Set-Cookie'), 'SEC-03: ... and no Set-Cookie');
$r = get_raw('/fhir/metadata', "Request-Id: abc\rSet-Cookie: evil=1");
is($r->code, 400, 'SEC-03: a bare CR in a header: 400 from httpd');
$r = get_raw('/fhir/metadata', "Request-Id: abc\xff\xfe<x>");
like($r->header('X-Request-Id') // '', qr/^[0-9a-f-]{36}$/,
     'SEC-03: 8-bit bytes in Request-Id: not echoed');
$r = get_raw('/fhir/metadata', 'UserId: jdoe', 'X-Injected: 1');
ok(!defined $r->header('X-Injected'),
   'SEC-03: a line after UserId is not echoed');
$r = get_raw('/fhir/metadata', 'Request-Id: ' . ('a' x 65));
like($r->header('X-Request-Id') // '', qr/^[0-9a-f-]{36}$/,
     'SEC-03: a 65-byte Request-Id: not echoed');
my $uid = 'jdoe%0d%0aX-Evil:%201';
($r) = fhir_post('/fhir/Patient', sample_patient(), UserId => $uid);
ok($r->code == 201 && !defined $r->header('X-Evil'),
   'SEC-03: an encoded CR/LF in UserId is data, never a header');

# --- bodies -----------------------------------------------------------------------
my $before_bodies = db_state();
sub post_raw {
    my ($body, %o) = @_;
    my $head = "POST /fhir/Patient HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Type: application/fhir+json\r\n"
        . "Accept: application/fhir+json\r\nConnection: close\r\n";
    if ($o{chunked}) {
        my $b = '';
        for (my $i = 0; $i < length $body; $i += 8192) {
            my $c = substr($body, $i, 8192);
            $b .= sprintf("%x\r\n", length $c) . $c . "\r\n";
        }
        return raw_request($head . "Transfer-Encoding: chunked\r\n\r\n"
                           . $b . "0\r\n\r\n");
    }
    my $len = $o{length} // length $body;
    return raw_request($head . "Content-Length: $len\r\n\r\n" . $body);
}
sub code_of { my $c = oo_codes(shift)->[0] // 'none'; $c =~ s/@.*//; $c }

my $big = '{"resourceType":"Patient","id":"' . ('x' x 100_000) . '"}';
$r = post_raw($big);
is($r->code . ' ' . code_of($r), '413 too-long',
   'SEC-04: a 100 KB body (limit 64 KB): 413 too-long');
$r = post_raw($big, chunked => 1);
is($r->code . ' ' . code_of($r), '413 too-long',
   'SEC-04: the same body chunked: 413 too-long');
$r = post_raw('{}', length => 10**12);
is($r->code, 413, 'SEC-04: Content-Length 10^12 with 2 bytes sent: 413');
$r = post_raw(('[' x 100_000) . (']' x 100_000));
like($r->code . ' ' . code_of($r), qr/^(400 structure|413 too-long)$/,
     'SEC-05: 100000 nested arrays: refused before parsing');
$r = post_raw('{"a":' x 17 . '1' . '}' x 17);
like($r->code . ' ' . code_of($r), qr/^(400 structure|413 too-long)$/,
     'SEC-05: 17 nested objects (limit 16): refused');
$r = post_raw(qq({"resourceType":"Patient","name":[{"family":"\xc3\x28"}]}));
is($r->code . ' ' . code_of($r), '400 structure',
   'SEC-06: invalid UTF-8 in the body: 400 structure');
$r = post_raw(qq({"resourceType":"Patient","name":[{"family":"\xed\xa0\x80"}]}));
is($r->code . ' ' . code_of($r), '400 structure',
   'SEC-06: an encoded surrogate in the body: 400 structure');
$r = post_raw(qq({"resourceType":"Patient","name":[{"family":"\\ud800"}]}));
is($r->code . ' ' . code_of($r), '400 structure',
   'SEC-06: a lone surrogate escape: 400 structure');
$r = fhir_get('/fhir/Patient?family=%C3%28');
is($r->code . ' ' . code_of($r), '400 invalid',
   'SEC-06: invalid UTF-8 in the query: 400 invalid');
is_deeply(db_state(), $before_bodies, 'SEC-04: nothing refused was stored');
