# Hostile and malformed requests (CR-GEN-*): bodies that are not JSON or
# not a Patient, bodies over the size and nesting limits, bad UTF-8,
# unsupported media types, unknown endpoints and methods.  Every refusal is
# a FHIR JSON OperationOutcome (never an httpd HTML page), stores nothing,
# and the server stays up.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use CR::Test;

plan tests => 124;

my $JSON = JSON::PP->new->utf8->canonical;
my $UNKNOWN = '00000000-0000-4000-8000-00000000beef';

# Rows in every table a create writes.
sub stored_counts {
    my %n;
    for my $t (qw(cr_patient cr_patient_version cr_identifier
                  cr_search_index)) {
        $n{$t} = db_row("SELECT COUNT(*) AS n FROM $t")->{n};
    }
    return \%n;
}

sub family_count {
    return db_row('SELECT COUNT(DISTINCT patient_id) AS n FROM '
                  . "cr_search_index WHERE kind = 'family' AND value = ?",
                  lc shift)->{n};
}

# What a refusal must look like: [status, FHIR JSON, OperationOutcome,
# error issues].
sub refusal {
    my $res = shift;
    my $d = json_of($res);
    return [ $res->code,
             scalar(($res->header('Content-Type') // '')
                    =~ m{^application/fhir\+json; charset=utf-8$}),
             ($d && ref $d eq 'HASH' ? $d->{resourceType} : undef) // 'none',
             oo_codes($res) ];
}

sub expect_refusal {
    my ($res, $status, $codes, $name) = @_;
    is_deeply(refusal($res), [ $status, 1, 'OperationOutcome', $codes ],
              $name) or diag($res->as_string);
}

# A sample patient serialized to exactly $len bytes, padded in its
# narrative.
sub padded_body {
    my ($len, %o) = @_;
    my $p = sample_patient(%o);
    my $open = '<div xmlns="http://www.w3.org/1999/xhtml">';
    $p->{text} = { status => 'generated', div => "$open</div>" };
    my $n = $len - length $JSON->encode($p);
    die "set-up: $len bytes is too small" if $n < 0;
    $p->{text}{div} = $open . ('x' x $n) . '</div>';
    my $body = $JSON->encode($p);
    die 'set-up: padding went wrong' unless length $body == $len;
    return $body;
}


# Requests LWP's helpers do not offer (DELETE).
sub ua_request {
    my ($method, $path) = @_;
    my $req = HTTP::Request->new($method,
                                 Apache::TestRequest::resolve_url($path),
                                 [ Accept => 'application/fhir+json' ]);
    return LWP::UserAgent->new(timeout => 30)->request($req);
}

# --- bodies that are not a Patient in JSON ----------------------------------
my $fam = unique_name();
my @bodies = (
    [ 'CR-GEN-010: malformed JSON',
      qq({"resourceType": "Patient",, "name": [{"family": "$fam"}]}),
      400, ['structure'] ],
    [ 'CR-GEN-010: truncated JSON',
      qq({"resourceType":"Patient","name":[{"family":"$fam","giv),
      400, ['structure'] ],
    [ 'CR-GEN-010: JSON with trailing content',
      qq({"resourceType":"Patient","name":[{"family":"$fam"}]} {}),
      400, ['structure'] ],
    [ 'CR-GEN-010: single-quoted keys',
      qq({'resourceType':'Patient','name':[{'family':'$fam'}]}),
      400, ['structure'] ],
    [ 'CR-GEN-010: NaN as a number',
      qq({"resourceType":"Patient","name":[{"family":"$fam"}],)
          . '"multipleBirthInteger":NaN}',
      400, ['structure'] ],
    [ 'CR-GEN-010: empty body', '', 400, ['structure'] ],
    [ 'CR-GEN-010: white space only', " \r\n\t ", 400, ['structure'] ],
    [ 'badinput: a JSON array body',
      qq([{"resourceType":"Patient","name":[{"family":"$fam"}]}]),
      400, ['structure@Patient'] ],
    [ 'badinput: a JSON string body', '"Patient"',
      400, ['structure@Patient'] ],
    [ 'badinput: wrong resourceType (Observation)',
      qq({"resourceType":"Observation","status":"final",)
          . qq("code":{"text":"$fam"}}),
      400, ['invalid@Patient.resourceType'] ],
    [ 'badinput: no resourceType',
      qq({"name":[{"family":"$fam"}]}),
      400, ['invalid@Patient.resourceType'] ],
    [ 'badinput: a Bundle posted to [base]/Patient',
      $JSON->encode({ resourceType => 'Bundle', type => 'collection',
                      entry => [ { fullUrl => 'urn:uuid:'
                                       . '11111111-1111-4111-8111-111111111111',
                                   resource => sample_patient(family => $fam)
                                 } ] }),
      400, ['invalid@Patient.resourceType'] ],
    [ 'badinput: nesting 200 deep',
      qq({"resourceType":"Patient","name":[{"family":"$fam"}],"extension":)
          . ('[' x 200) . (']' x 200) . '}',
      400, ['structure'] ],
    [ 'badinput: invalid UTF-8 byte in a string',
      qq({"resourceType":"Patient","name":[{"family":"$fam\xff"}]}),
      400, ['structure'] ],
    [ 'badinput: overlong UTF-8 sequence in a string',
      qq({"resourceType":"Patient","name":[{"family":"$fam\xc0\xaf"}]}),
      400, ['structure'] ],
    [ 'badinput: UTF-8 encoded surrogate in a string',
      qq({"resourceType":"Patient","name":[{"family":"$fam\xed\xa0\x80"}]}),
      400, ['structure'] ],
    [ 'badinput: \\u0000 in a name',
      qq({"resourceType":"Patient","name":[{"family":"$fam\\u0000x"}]}),
      400, ['structure'] ],
    [ 'badinput: raw NUL byte in a string',
      qq({"resourceType":"Patient","name":[{"family":"$fam\x00x"}]}),
      400, ['structure'] ],
    [ 'badinput: lone surrogate escape \\ud800',
      qq({"resourceType":"Patient","name":[{"family":"$fam\\ud800"}]}),
      400, ['structure'] ],
    [ 'badinput: raw control character in a string',
      qq({"resourceType":"Patient","name":[{"family":"$fam\x01"}]}),
      400, ['structure'] ],
    [ 'badinput: byte order mark before the JSON',
      qq(\xef\xbb\xbf{"resourceType":"Patient","name":[{"family":"$fam"}]}),
      400, ['structure'] ],
);
for my $c (@bodies) {
    my ($name, $body, $status, $codes) = @$c;
    my $before = stored_counts();
    my $res = fhir_post('/fhir/Patient', $body);
    expect_refusal($res, $status, $codes,
                   "$name: $status " . join(', ', @$codes));
    is_deeply(stored_counts(), $before, "$name: nothing stored");
}
{
    # json-c alone would keep the last member; cr_json refuses the second.
    my $f = unique_name();
    my $before = stored_counts();
    my $res = fhir_post('/fhir/Patient', qq({"resourceType":"Observation",)
        . qq("resourceType":"Patient","name":[{"family":"$f"}]}));
    expect_refusal($res, 400, ['structure'],
                   'badinput: duplicate key "resourceType": 400 structure');
    is_deeply(stored_counts(), $before,
              'badinput: duplicate key "resourceType": nothing stored');
    like(json_of($res)->{issue}[0]{details}{text} // '',
         qr/two members with the same name.*line 1/,
         'badinput: the outcome says a name is repeated, and where');
    $res = fhir_post('/fhir/Patient', qq({"resourceType":"Patient",)
        . qq("name":[{"family":"$f","given":["A"],"given":["B"]}]}));
    expect_refusal($res, 400, ['structure'],
                   'badinput: a repeated member in a nested object: 400 '
                   . 'structure');
}

# --- nesting limit (ClientRegistryMaxJSONDepth 16, "deepest nesting of
# objects/arrays"; the top-level object is level 1) -------------------------
# An unknown element "x" holding nested arrays: when the parser accepts the
# nesting, the validator refuses "x" (structure@Patient.x); when the parser
# refuses it, the issue has no expression.
sub nested_arrays {
    my $levels = shift;    # total nesting including the Patient object
    return qq({"resourceType":"Patient","name":[{"family":"$fam"}],"x":)
        . ('[' x ($levels - 1)) . (']' x ($levels - 1)) . '}';
}
expect_refusal(fhir_post('/fhir/Patient', nested_arrays(16)), 400,
               ['structure@Patient.x'],
               'badinput: arrays nested 16 deep pass the parser (the '
               . 'validator refuses the unknown element)');
expect_refusal(fhir_post('/fhir/Patient', nested_arrays(17)), 400,
               ['structure'], 'badinput: arrays nested 17 deep: the parser '
               . 'refuses them, 400 structure');

# Patient{1} extension[2] {3} ... the innermost of $levels nested
# extensions is an object at level 1 + 2 * $levels.
sub nested_ext_patient {
    my ($levels, $leaf) = @_;
    my $ext = { url => 'http://example.org/leaf', %$leaf };
    $ext = { url => 'http://example.org/node', extension => [ $ext ] }
        for 2 .. $levels;
    my $p = sample_patient(family => unique_name());
    $p->{extension} = [ $ext ];
    return $p;
}
{
    my $p = nested_ext_patient(7, { valueString => 'x' });
    my $res = fhir_post('/fhir/Patient', $p);
    is_deeply([ $res->code, family_count($p->{name}[0]{family}) ], [ 201, 1 ],
              'badinput: a Patient whose objects nest 15 deep is accepted')
        or diag($res->content);
    $p = nested_ext_patient(7, { valueCoding => {
        system => 'http://example.org/cs', code => 'x' } });
    $res = fhir_post('/fhir/Patient', $p);
    is_deeply([ $res->code, family_count($p->{name}[0]{family}) ],
              [ 201, 1 ], 'badinput: a Patient whose objects nest 16 deep '
              . '(a valueCoding at level 16) is accepted, as 16 nested '
              . 'arrays are') or diag($res->content);
    $p = nested_ext_patient(8, { valueString => 'x' });
    my $before = stored_counts();
    $res = fhir_post('/fhir/Patient', $p);
    expect_refusal($res, 400, ['structure'],
                   'badinput: a Patient whose objects nest 17 deep: 400 '
                   . 'structure');
    is_deeply(stored_counts(), $before, 'badinput: 17 deep: nothing stored');
}

# --- body size (ClientRegistryMaxBodySize 65536 on /fhir, 2048 on
# /fhir-small) ---------------------------------------------------------------
{
    my $f = unique_name();
    my $before = stored_counts();
    my $res = fhir_post('/fhir/Patient', padded_body(65537, family => $f));
    expect_refusal($res, 413, ['too-long'],
                   'badinput: a body of 65537 bytes: 413 too-long');
    is_deeply(stored_counts(), $before,
              'badinput: 65537 bytes: nothing stored');
    $res = fhir_post('/fhir/Patient', padded_body(65536, family => $f));
    is_deeply([ $res->code, family_count($f) ], [ 201, 1 ],
              'badinput: a body of exactly 65536 bytes is accepted')
        or diag($res->content);

    my $g = unique_name();
    my $body = padded_body(3000, family => $g);
    $before = stored_counts();
    $res = fhir_post('/fhir-small/Patient', $body);
    expect_refusal($res, 413, ['too-long'],
                   'badinput: 3000 bytes to /fhir-small (limit 2048): 413');
    is_deeply(stored_counts(), $before,
              'badinput: /fhir-small: nothing stored');
    $res = fhir_post('/fhir/Patient', $body);
    is_deeply([ $res->code, family_count($g) ], [ 201, 1 ],
              'badinput: the same 3000 bytes to /fhir: 201');
}
{
    # Content-Length over the limit: refused before the body is read.
    my $f = unique_name();
    my $start = $JSON->encode(sample_patient(family => $f));
    my $before = stored_counts();
    my $res = raw_request("POST /fhir/Patient HTTP/1.1\r\n"
        . 'Host: ' . Apache::TestRequest::hostport() . "\r\n"
        . "Content-Type: application/fhir+json\r\n"
        . "Accept: application/fhir+json\r\n"
        . "Content-Length: 100000\r\n\r\n" . $start);
    expect_refusal($res, 413, ['too-long'],
                   'badinput: Content-Length 100000 with a short body: 413 '
                   . 'without waiting for the body');
    is_deeply(stored_counts(), $before,
              'badinput: Content-Length over the limit: nothing stored');

    # Chunked: within the limit it is read; over it, 413.
    my $chunked = sub {
        my $body = shift;
        my $out = '';
        for (my $i = 0; $i < length $body; $i += 4000) {
            my $piece = substr $body, $i, 4000;
            $out .= sprintf("%x\r\n", length $piece) . "$piece\r\n";
        }
        return "POST /fhir/Patient HTTP/1.1\r\n"
            . 'Host: ' . Apache::TestRequest::hostport() . "\r\n"
            . "Content-Type: application/fhir+json\r\n"
            . "Accept: application/fhir+json\r\n"
            . "Connection: close\r\n"
            . "Transfer-Encoding: chunked\r\n\r\n${out}0\r\n\r\n";
    };
    my $g = unique_name();
    $res = raw_request($chunked->(padded_body(10000, family => $g)));
    is_deeply([ $res->code, family_count($g) ], [ 201, 1 ],
              'badinput: a chunked body within the limit: 201')
        or diag($res->as_string);
    my $h = unique_name();
    $before = stored_counts();
    $res = raw_request($chunked->(padded_body(70000, family => $h)));
    expect_refusal($res, 413, ['too-long'],
                   'badinput: a chunked body over the limit: 413 too-long');
    is_deeply(stored_counts(), $before,
              'badinput: chunked over the limit: nothing stored');
}

# --- media types ------------------------------------------------------------
for my $ct ('text/plain', 'application/fhir+xml', 'application/xml',
            'application/fhir+json; charset=iso-8859-1',
            'application/x-www-form-urlencoded') {
    my $before = stored_counts();
    my $res = fhir_post('/fhir/Patient', sample_patient(),
                        'Content-Type' => $ct);
    expect_refusal($res, 415, ['not-supported'],
                   "CR-GEN-006: Content-Type $ct: 415 not-supported");
    is_deeply(stored_counts(), $before, "CR-GEN-006: $ct: nothing stored");
}
for my $ct ('application/json', 'application/fhir+json; charset=utf-8',
            'application/fhir+json; fhirVersion=4.0; charset=UTF-8',
            'APPLICATION/FHIR+JSON') {
    my $f = unique_name();
    my $res = fhir_post('/fhir/Patient', sample_patient(family => $f),
                        'Content-Type' => $ct);
    is_deeply([ $res->code, family_count($f) ], [ 201, 1 ],
              "CR-GEN-006: Content-Type $ct is accepted");
}
{
    my $before = stored_counts();
    my $res = fhir_post('/fhir/Patient', sample_patient(),
                        Accept => 'application/fhir+xml');
    expect_refusal($res, 406, ['not-supported'],
                   'CR-GEN-008: POST with Accept: application/fhir+xml: 406');
    is_deeply(stored_counts(), $before, 'CR-GEN-008: nothing stored');
}
for my $acc ('application/fhir+xml', 'text/html',
             'application/fhir+json;q=0') {
    expect_refusal(fhir_get('/fhir/metadata', Accept => $acc), 406,
                   ['not-supported'], "CR-GEN-008: Accept: $acc: 406");
}
my %accept_ok = (
    'application/fhir+json; charset=utf-8; fhirVersion=4.0; BCFhirVersion=1'
        => 'application/fhir+json',
    'application/json' => 'application/json',
    '*/*' => 'application/fhir+json',
    'application/fhir+xml, application/fhir+json;q=0.5'
        => 'application/fhir+json',
);
for my $acc (sort keys %accept_ok) {
    my $res = fhir_get('/fhir/metadata', Accept => $acc);
    is_deeply([ $res->code, $res->header('Content-Type'),
                (json_of($res) // {})->{resourceType} ],
              [ 200, "$accept_ok{$acc}; charset=utf-8",
                'CapabilityStatement' ],
              ($acc =~ /BCFhirVersion/ ? 'CR-GEN-007' : 'CR-GEN-008')
              . ": Accept: $acc: 200 with $accept_ok{$acc}");
}
expect_refusal(fhir_get('/fhir/metadata?_format=xml'), 406, ['not-supported'],
               'badinput: _format=xml: 406');
expect_refusal(fhir_get('/fhir/metadata?_format=application/fhir%2Bxml'), 406,
               ['not-supported'],
               'badinput: _format=application/fhir+xml: 406');
for my $q ('_format=json', '_format=application/fhir%2Bjson') {
    my $res = fhir_get("/fhir/metadata?$q", Accept => 'application/fhir+xml');
    is_deeply([ $res->code, $res->header('Content-Type') ],
              [ 200, 'application/fhir+json; charset=utf-8' ],
              "badinput: $q overrides Accept: 200");
}
{
    my $res = fhir_get('/fhir/Patient?_id=' . $UNKNOWN . '&_format=json');
    is_deeply([ $res->code, (json_of($res) // {})->{total} ], [ 200, 0 ],
              'badinput: _format=json on a search: 200');
}

# --- endpoints and methods --------------------------------------------------
my ($cres, $cp) = create_patient();
is($cres->code, 201, 'set-up: a patient to address');
my $id = ($cp // {})->{id} // 'none';

expect_refusal(fhir_get("/fhir/Patient/$UNKNOWN"), 404, ['not-found'],
               'badinput: GET an unknown id: 404 not-found');
expect_refusal(fhir_get('/fhir/Patient/bad%20id'), 400, ['value'],
               'badinput: GET /fhir/Patient/bad%20id: 400 value');
expect_refusal(fhir_get('/fhir/Patient/' . ('a' x 65)), 400, ['value'],
               'badinput: GET an id of 65 characters: 400 value');
expect_refusal(fhir_get('/fhir/Patient/a_b'), 400, ['value'],
               'badinput: GET an id with "_": 400 value');
for my $m ([ 'DELETE', "/fhir/Patient/$id", 'GET, HEAD, PUT' ],
           [ 'PATCH', "/fhir/Patient/$id", 'GET, HEAD, PUT' ],
           [ 'DELETE', '/fhir/Patient', 'GET, HEAD, POST' ],
           [ 'PUT', '/fhir/metadata', 'GET, HEAD' ],
           [ 'POST', "/fhir/Patient/$id/_history", 'GET, HEAD' ]) {
    my ($method, $path, $allow) = @$m;
    my $before = stored_counts();
    my $res = $method eq 'DELETE' ? ua_request($method, $path)
            : fhir_request($method, $path, sample_patient());
    is_deeply([ @{ refusal($res) }, $res->header('Allow') ],
              [ 405, 1, 'OperationOutcome', ['not-supported'], $allow ],
              "badinput: $method $path: 405 with Allow: $allow")
        or diag($res->as_string);
    is_deeply(stored_counts(), $before, "badinput: $method $path: no change");
}
is_deeply([ fhir_get("/fhir/Patient/$id")->code ], [ 200 ],
          'badinput: the patient is still there after DELETE');
for my $r ([ 'POST', '/fhir/$FindCandidates', 'CR-GEN-002' ],
           [ 'POST', "/fhir/Patient/$id/\$RevisePatient", 'CR-GEN-003' ],
           [ 'POST', '/fhir/Patient/$Foo', 'CR-GEN-004' ],
           [ 'GET', '/fhir/Patient/$Foo', 'CR-GEN-004' ],
           [ 'POST', '/fhir/Patient/$findcandidates', 'CR-GEN-004' ]) {
    my ($method, $path, $cid) = @$r;
    my $before = stored_counts();
    my $res = fhir_request($method, $path,
                           $method eq 'POST' ? sample_patient() : undef);
    expect_refusal($res, 404, ['not-supported'],
                   "$cid: $method $path: 404 not-supported");
    is_deeply(stored_counts(), $before, "$cid: $method $path: nothing stored");
}
expect_refusal(fhir_get('/fhir/Observation'), 404, ['not-supported'],
               'badinput: GET /fhir/Observation: 404 not-supported');
expect_refusal(fhir_get('/fhir/'), 404, ['not-found'],
               'badinput: GET /fhir/: 404 not-found');
expect_refusal(fhir_get('/fhir/patient'), 404, ['not-found'],
               'badinput: GET /fhir/patient (lower case): 404 not-found');
expect_refusal(fhir_get("/fhir/Patient/$id/_history/1/x"), 404,
               ['not-found'], 'badinput: too many path segments: 404');
expect_refusal(fhir_get("/fhir/Patient/$id/_foo"), 404, ['not-found'],
               'badinput: unknown instance sub-path: 404');

# --- the server stayed up ---------------------------------------------------
is(fhir_get('/fhir/metadata')->code, 200,
   'badinput: GET /fhir/metadata still 200 afterwards');
{
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    open my $fh, '<', $log or die "$log: $!";
    my @bad = grep { /segfault|exit signal|AddressSanitizer|double free/i }
              <$fh>;
    is_deeply(\@bad, [], 'badinput: no crash in the error_log');
}
