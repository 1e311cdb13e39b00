# POST [base]/Patient validation (cr_fhir_patient.c): each invalid Patient
# is sample_patient() with one thing broken, and must be refused with the
# right status (400 for shape and format, 422 for profile and business
# rules), issue code and FHIRPath expression, leaving nothing stored.  Then
# the accepted side: valid PHNs and the IG's maximal Patient.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use JSON::PP ();
use CR::Test;

my $PHN_SYS = 'https://fhir.infoway-inforoute.ca/NamingSystem/'
    . 'ca-bc-patient-healthcare-id';
my $FHA_SYS =
    'https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-fha-mt-source-patient-id';

# A valid PHN nobody holds yet, with a random body high in the range (the
# test server allocates sequentially from body 0).
sub fresh_phn {
    for (1 .. 1000) {
        my $phn = '9' . (90000000 + int rand 9999999);
        my @d = split //, $phn;
        my @w = (2, 4, 8, 5, 10, 9, 7, 3);
        my $s = 0;
        $s += $d[$_ + 1] * $w[$_] for 0 .. 7;
        my $r = $s % 11;
        next if $r < 2;
        $phn .= 11 - $r;
        next unless valid_phn($phn);
        return $phn unless db_row('SELECT 1 AS x FROM cr_identifier '
                                  . 'WHERE value = ?', $phn);
    }
    die 'set-up: no free PHN';
}

sub sri { return { system => $FHA_SYS, value => "V" . uc unique_name("S") } }

# Rows in every table a create writes.
sub stored_counts {
    my %n;
    for my $t (qw(cr_patient cr_patient_version cr_identifier
                  cr_search_index)) {
        $n{$t} = db_row("SELECT COUNT(*) AS n FROM $t")->{n};
    }
    return \%n;
}

# --- the rejections ---------------------------------------------------------
# [ name, edit of a sample patient, status, [ "code@expression", ... ] ]
my @cases = (
    [ 'CR-ADD-019: name.use "maiden"',
      sub { $_[0]{name}[0]{use} = 'maiden' },
      422, ['code-invalid@Patient.name[0].use'] ],
    [ 'CR-ADD-019: telecom.system "fax"',
      sub { $_[0]{telecom}[0]{system} = 'fax' },
      422, ['code-invalid@Patient.telecom[0].system'] ],
    [ 'CR-ADD-019: telecom.use "temp"',
      sub { $_[0]{telecom}[0]{use} = 'temp' },
      422, ['code-invalid@Patient.telecom[0].use'] ],
    [ 'CR-ADD-019: address.type "both"',
      sub { $_[0]{address}[0]{type} = 'both' },
      422, ['code-invalid@Patient.address[0].type'] ],
    [ 'validation: address.use "mailing"',
      sub { $_[0]{address}[0]{use} = 'mailing' },
      422, ['code-invalid@Patient.address[0].use'] ],
    [ 'validation: gender "M"',
      sub { $_[0]{gender} = 'M' },
      422, ['code-invalid@Patient.gender'] ],
    [ 'validation: gender not a string',
      sub { $_[0]{gender} = 1 },
      400, ['structure@Patient.gender'] ],
    [ 'validation: birthDate "1980-13-01"',
      sub { $_[0]{birthDate} = '1980-13-01' },
      400, ['value@Patient.birthDate'] ],
    [ 'validation: birthDate "1980-02-30"',
      sub { $_[0]{birthDate} = '1980-02-30' },
      400, ['value@Patient.birthDate'] ],
    [ 'validation: birthDate "1981-02-29" (not a leap year)',
      sub { $_[0]{birthDate} = '1981-02-29' },
      400, ['value@Patient.birthDate'] ],
    [ 'validation: birthDate "1980-3-4"',
      sub { $_[0]{birthDate} = '1980-3-4' },
      400, ['value@Patient.birthDate'] ],
    [ 'validation: birthDate with a time',
      sub { $_[0]{birthDate} = '1980-03-04T10:00:00Z' },
      400, ['value@Patient.birthDate'] ],
    [ 'validation: future birthDate "2999-01-01"',
      sub { $_[0]{birthDate} = '2999-01-01' },
      422, ['business-rule@Patient.birthDate'] ],
    [ 'CR-REV-019: deceasedBoolean true',
      sub { $_[0]{deceasedBoolean} = JSON::PP::true },
      422, ['code-invalid@Patient.deceasedBoolean'] ],
    [ 'CR-REV-019: deceasedBoolean false',
      sub { $_[0]{deceasedBoolean} = JSON::PP::false },
      422, ['code-invalid@Patient.deceasedBoolean'] ],
    [ 'validation: deceasedDateTime before birthDate',
      sub { $_[0]{deceasedDateTime} = '1970-01-01' },
      422, ['business-rule@Patient.deceasedDateTime'] ],
    [ 'validation: deceasedDateTime not a dateTime',
      sub { $_[0]{deceasedDateTime} = 'yesterday' },
      400, ['value@Patient.deceasedDateTime'] ],
    [ 'validation: identifier with an unknown system',
      sub { $_[0]{identifier} = [ { system => 'http://example.org/mrn',
                                    value => 'A1' } ] },
      422, ['code-invalid@Patient.identifier[0].system'] ],
    [ 'validation: identifier without a system',
      sub { $_[0]{identifier} = [ { value => 'A1' } ] },
      400, ['required@Patient.identifier[0].system'] ],
    [ 'validation: identifier without a value',
      sub { $_[0]{identifier} = [ { system => $FHA_SYS } ] },
      400, ['required@Patient.identifier[0].value'] ],
    [ 'validation: identifier.use "usual"',
      sub { $_[0]{identifier} = [ { %{ sri() }, use => 'usual' } ] },
      422, ['code-invalid@Patient.identifier[0].use'] ],
    [ 'CR-REV-009: source record id with forbidden characters',
      sub { $_[0]{identifier} = [ { system => $FHA_SYS,
                                    value => 'ab c#' . int rand 1e6 } ] },
      422, ['business-rule@Patient.identifier[0].value'] ],
    [ 'validation: two current PHNs',
      sub { $_[0]{identifier} = [ { system => $PHN_SYS, value => fresh_phn() },
                                  { system => $PHN_SYS,
                                    value => fresh_phn() } ] },
      422, ['business-rule@Patient.identifier'] ],
    [ 'CR-ADD-016: family with a digit "Sm1th" is rejected, not filtered',
      sub { $_[0]{name}[0]{family} = 'Sm1th' },
      422, ['business-rule@Patient.name[0].family'] ],
    [ 'CR-ADD-016: given with a wildcard "Al*ce"',
      sub { $_[0]{name}[0]{given} = ['Al*ce'] },
      422, ['business-rule@Patient.name[0].given[0]'] ],
    [ 'CR-ADD-016: family with a wildcard "Smi%th"',
      sub { $_[0]{name}[0]{family} = 'Smi%th' },
      422, ['business-rule@Patient.name[0].family'] ],
    [ 'CR-ADD-016: family with "?"',
      sub { $_[0]{name}[0]{family} = 'Sm?th' },
      422, ['business-rule@Patient.name[0].family'] ],
    [ 'validation: email "not-an-email"',
      sub { $_[0]{telecom} = [ { system => 'email',
                                 value => 'not-an-email' } ] },
      400, ['value@Patient.telecom[0].value'] ],
    [ 'validation: phone "abc"',
      sub { $_[0]{telecom}[0]{value} = 'abc' },
      400, ['value@Patient.telecom[0].value'] ],
    [ 'validation: phone with too few digits',
      sub { $_[0]{telecom}[0]{value} = '555-01' },
      400, ['value@Patient.telecom[0].value'] ],
    [ 'validation: telecom without a system',
      sub { delete $_[0]{telecom}[0]{system} },
      400, ['required@Patient.telecom[0].system'] ],
    [ 'validation: unknown element "foo"',
      sub { $_[0]{foo} = 'bar' },
      400, ['structure@Patient.foo'] ],
    [ 'validation: unknown element in a name',
      sub { $_[0]{name}[0]{middle} = 'Q' },
      400, ['structure@Patient.name[0].middle'] ],
    [ 'validation: modifierExtension',
      sub { $_[0]{modifierExtension} = [ { url => 'http://example.org/x',
                                           valueBoolean => JSON::PP::true } ] },
      422, ['not-supported@Patient.modifierExtension'] ],
    [ 'validation: extension without url',
      sub { $_[0]{extension} = [ { valueString => 'x' } ] },
      400, ['required@Patient.extension[0].url'] ],
    [ 'validation: name as a string instead of an array',
      sub { $_[0]{name} = 'Alice Smith' },
      400, ['structure@Patient.name'] ],
    [ 'validation: name as an empty array',
      sub { $_[0]{name} = [] },
      400, ['structure@Patient.name'] ],
    [ 'validation: name without family, given or text',
      sub { $_[0]{name} = [ { use => 'official' } ] },
      400, ['required@Patient.name[0]'] ],
    [ 'validation: active "yes"',
      sub { $_[0]{active} = 'yes' },
      400, ['structure@Patient.active'] ],
    [ 'validation: multipleBirthBoolean "yes"',
      sub { $_[0]{multipleBirthBoolean} = 'yes' },
      400, ['structure@Patient.multipleBirthBoolean'] ],
    [ 'validation: empty string birthDate ""',
      sub { $_[0]{birthDate} = '' },
      400, ['value@Patient.birthDate'] ],
    [ 'validation: empty string family ""',
      sub { $_[0]{name}[0]{family} = '' },
      400, ['value@Patient.name[0].family'] ],
    [ 'validation: birthDate "0000"',
      sub { $_[0]{birthDate} = '0000' },
      400, ['value@Patient.birthDate'] ],
    [ 'validation: birthDate with a leading space',
      sub { $_[0]{birthDate} = ' 1975' },
      400, ['value@Patient.birthDate'] ],
    [ 'validation: birthDate the day after tomorrow',
      sub { my @t = gmtime(time + 2 * 86400);
            $_[0]{birthDate} = sprintf '%04d-%02d-%02d', $t[5] + 1900,
                                       $t[4] + 1, $t[3] },
      422, ['business-rule@Patient.birthDate'] ],
    [ 'validation: deceasedDateTime with a time but no time zone',
      sub { $_[0]{deceasedDateTime} = '2008-10-26T10:00:00' },
      400, ['value@Patient.deceasedDateTime'] ],
    [ 'validation: telecom.rank as a string',
      sub { $_[0]{telecom}[0]{rank} = '1' },
      400, ['structure@Patient.telecom[0].rank'] ],
    [ 'validation: telecom.rank 0 (not a positiveInt)',
      sub { $_[0]{telecom}[0]{rank} = 0 },
      400, ['value@Patient.telecom[0].rank'],
      'server bug: telecom.rank range not checked (cr_fhir_patient.c '
      . 'check_telecom)' ],
    [ 'validation: multipleBirthInteger 3000000000 (above FHIR integer)',
      sub { $_[0]{multipleBirthInteger} = 3000000000 },
      400, ['value@Patient.multipleBirthInteger'],
      'server bug: integer range not checked (cr_fhir_patient.c '
      . 'cr_fhir_patient_parse)' ],
    [ 'validation: gender null',
      sub { $_[0]{gender} = undef },
      400, ['structure@Patient.gender'],
      'server bug: JSON null accepted as absent and stored '
      . '(cr_fhir_patient.c, cr_json_get)' ],
    [ 'validation: name[0].family null',
      sub { $_[0]{name}[0]{family} = undef },
      400, ['structure@Patient.name[0].family'],
      'server bug: JSON null accepted as absent and stored '
      . '(cr_fhir_patient.c, cr_json_get)' ],
    [ 'validation: family of white space only',
      sub { $_[0]{name}[0]{family} = '   ' },
      400, ['value@Patient.name[0].family'],
      'server bug: white-space-only strings accepted (cr_fhir_patient.c '
      . 'want_string)' ],
    [ 'CR-OO-007: two errors are both reported',
      sub { $_[0]{name}[0]{use} = 'maiden';
            $_[0]{telecom}[0]{system} = 'fax' },
      422, ['code-invalid@Patient.name[0].use',
            'code-invalid@Patient.telecom[0].system'] ],
    [ 'CR-OO-007: three errors of both kinds are all reported',
      sub { $_[0]{telecom}[0]{value} = 'abc';
            $_[0]{gender} = 'M';
            $_[0]{birthDate} = '1980-13-01' },
      400, ['value@Patient.telecom[0].value', 'code-invalid@Patient.gender',
            'value@Patient.birthDate'] ],
);

# CR-PHN-004/005/006: PHNs failing the rules, sent at create.
my %phn_id = (
    9999999999 => 'CR-PHN-004', 9999999990 => 'CR-PHN-004',
    9999999991 => 'CR-PHN-004', 9999999992 => 'CR-PHN-004',
    9876543210 => 'CR-PHN-004', 9736546293 => 'CR-PHN-004',
    9876345146 => 'CR-PHN-004', 9000000040 => 'CR-PHN-005',
    9123456780 => 'CR-PHN-005', 8123456789 => 'CR-PHN-006',
    912345678 => 'CR-PHN-006', '9A23456780' => 'CR-PHN-006',
    92534848020 => 'CR-PHN-006',
);
for my $bad (sort keys %phn_id) {
    push @cases, [ "$phn_id{$bad}: PHN $bad is rejected",
                   sub { $_[0]{identifier} = [ { system => $PHN_SYS,
                                                 value => "$bad" } ] },
                   422, ['business-rule@Patient.identifier[0].value'] ];
}

my @valid_vectors = qw(9253484802 9983652763 9698658215 9999999998);

plan tests => 2 * @cases + 2 * @valid_vectors + 6 + 6 + 12;

for my $c (@cases) {
    my ($name, $edit, $status, $codes, $todo) = @$c;
    # (the fifth column named server bugs while they were open; all are
    # fixed now, so it is no longer used)
    my $p = sample_patient();
    $edit->($p);
    my $before = stored_counts();
    my $res = fhir_post('/fhir/Patient', $p);
    is_deeply([ $res->code, oo_codes($res) ], [ $status, $codes ],
              "$name: $status " . join(', ', @$codes))
        or diag($res->content);
    is_deeply(stored_counts(), $before, "$name: nothing stored");
}

# --- accepted PHNs ----------------------------------------------------------
# CR-PHN-003: the IG's valid PHNs.  Another test file may already hold one
# of them; then the only acceptable refusal is 422 duplicate.
for my $phn (@valid_vectors) {
    my $held = db_row('SELECT patient_id FROM cr_identifier '
                      . 'WHERE system = ? AND value = ?', $PHN_SYS, $phn);
    my $res = fhir_post('/fhir/Patient', sample_patient(
        identifier => [ { system => $PHN_SYS, value => $phn } ]));
    my $p = json_of($res);
    if ($held) {
        is_deeply([ $res->code, oo_codes($res) ],
                  [ 422, ['duplicate@Patient.identifier[0]'] ],
                  "CR-PHN-003: $phn validates (already held: 422 duplicate)");
        is(db_row('SELECT COUNT(*) AS n FROM cr_patient WHERE phn = ?',
                  $phn)->{n}, 1, "CR-PHN-003: $phn still held once");
    }
    else {
        is_deeply([ $res->code, phn_of($p) ], [ 201, $phn ],
                  "CR-PHN-003: $phn is accepted at create")
            or diag($res->content);
        is((db_row('SELECT phn FROM cr_patient WHERE id = ?',
                   ($p // {})->{id} // '') // {})->{phn}, $phn,
           "CR-PHN-003: $phn stored as the patient's PHN");
    }
}

# Valid PHNs generated here.
my $phn = fresh_phn();
my $res = fhir_post('/fhir/Patient', sample_patient(
    identifier => [ { system => $PHN_SYS, value => $phn } ]));
my $p = json_of($res);
is_deeply([ $res->code, phn_of($p) ], [ 201, $phn ],
          "CR-PHN-003: a generated valid PHN $phn is accepted");
is_deeply([ map { $_->{value} } grep { $_->{system} eq $PHN_SYS }
            @{ $p->{identifier} } ], [ $phn ],
          'CR-PHN-003: no second PHN is assigned');
is_deeply(db_rows('SELECT id, phn FROM cr_patient WHERE phn = ?', $phn),
          [ { id => $p->{id}, phn => $phn } ],
          'CR-PHN-003: stored with that PHN');
my $before = stored_counts();
$res = fhir_post('/fhir/Patient', sample_patient(
    identifier => [ { system => $PHN_SYS, value => $phn } ]));
is_deeply([ $res->code, oo_codes($res) ],
          [ 422, ['duplicate@Patient.identifier[0]'] ],
          'CR-ADD-006: a PHN held by another client: 422 duplicate');
is_deeply(stored_counts(), $before, 'CR-ADD-006: nothing stored');
my $phn2 = fresh_phn();
$res = fhir_post('/fhir/Patient', sample_patient(
    identifier => [ sri(), { system => $PHN_SYS, value => $phn2 } ]));
is_deeply([ $res->code, phn_of(json_of($res)) ], [ 201, $phn2 ],
          'CR-PHN-003: a valid PHN after another identifier is accepted');

# --- other accepted values and a number json-c cannot hold ------------------
{
    my $f = "O'Brien-" . unique_name();
    my $res = fhir_post('/fhir/Patient', sample_patient(family => $f,
                                                        given => 'Jean-Luc'));
    is_deeply([ $res->code, (json_of($res) // {})->{name}[0]{family} ],
              [ 201, $f ],
              'CR-ADD-016: apostrophe and hyphen in names are accepted');
}
{
    # A death known only to the year or month of the birth is not before it.
    for my $d ('1980', '1980-03') {
        my $p = sample_patient(birthDate => '1980-03-04');
        $p->{deceasedDateTime} = $d;
        my $res = fhir_post('/fhir/Patient', $p);
        is_deeply([ $res->code, (json_of($res) // {})->{deceasedDateTime} ],
                  [ 201, $d ], "validation: deceasedDateTime \"$d\" with "
                  . 'birthDate 1980-03-04 is not before the birth: 201')
            or diag($res->content);
    }
}
{
    # 99999999999999999999 does not fit json-c's integers; it must not be
    # stored as some other number.
    my $p = sample_patient();
    my $body = JSON::PP->new->canonical->encode($p);
    $body =~ s/\}$/,"multipleBirthInteger":99999999999999999999}/;
    my $before = stored_counts();
    my $res = fhir_post('/fhir/Patient', $body);
    is_deeply([ $res->code, oo_codes($res) ],
              [ 400, ['value@Patient.multipleBirthInteger'] ],
              'validation: multipleBirthInteger 99999999999999999999: 400 '
              . 'value') or diag($res->content);
    is_deeply(stored_counts(), $before,
              'validation: multipleBirthInteger 99999999999999999999: '
              . 'nothing stored');
}
{
    my $p = sample_patient();
    $p->{name}[0]{given} = [ undef ];
    my $before = stored_counts();
    my $res = fhir_post('/fhir/Patient', $p);
    is_deeply([ $res->code, oo_codes($res), stored_counts() ],
              [ 400, ['structure@Patient.name[0].given[0]'], $before ],
              'validation: null inside given: 400 structure, nothing stored');
}

# --- the IG's maximal Patient -----------------------------------------------
my $file = t_dir() . '/data/ig/Bundle-Revise-withMaxData-Request.json';
my $bundle = do {
    open my $fh, '<:raw', $file or die "$file: $!";
    local $/;
    JSON::PP->new->utf8->decode(scalar <$fh>);
};
my ($ig) = map { $_->{resource} }
           grep { $_->{resource}{resourceType} eq 'Patient' }
           @{ $bundle->{entry} };
# The fixture carries no PHN (the registry assigns one).  Its identifier
# values are made unique to this run: an identifier belongs to one client
# only, and another test may post the same fixture.
my $suffix = uc unique_name('');
$_->{value} .= $suffix for @{ $ig->{identifier} };
# t/ig/maintain_add.t revises this same example person and must not find
# it here: a registry would rightly call the two a sure match.  A birth
# date of its own keeps this copy a different person.
$ig->{birthDate} = '1931-02-03';
my @sent_ids = map { "$_->{system}|$_->{value}" } @{ $ig->{identifier} };
ok(!grep({ $_->{system} eq $PHN_SYS } @{ $ig->{identifier} })
   && @sent_ids == 9, 'IG Patient: 9 identifiers, none a PHN');
$res = fhir_post('/fhir/Patient', $ig);
my $created = json_of($res);
is($res->code, 201, 'IG Patient (Revise-withMaxData): 201 Created')
    or diag($res->content);
my $id = ($created // {})->{id} // 'none';
$res = fhir_get("/fhir/Patient/$id");
my $got = json_of($res) // {};
is($res->code, 200, 'IG Patient: read back');
is_deeply($got->{name}, $ig->{name}, 'IG Patient, CR-PAT-008: the same names (uses as sent)');
is_deeply($got->{address}, $ig->{address}, 'IG Patient, CR-PAT-008: the same addresses (types as sent)');
is_deeply($got->{telecom}, $ig->{telecom}, 'IG Patient, CR-PAT-008, CR-PAT-010: the same telecoms (values, systems and uses as sent)');
is_deeply([ @$got{qw(gender birthDate deceasedDateTime)} ],
          [ @$ig{qw(gender birthDate deceasedDateTime)} ],
          'IG Patient: gender, birthDate, deceasedDateTime');
is_deeply($got->{_deceasedDateTime}, $ig->{_deceasedDateTime},
          'IG Patient, CR-EXT-002: the death-verified extension (deathVerifiedFlag) is kept');
is_deeply([ grep { $_->{system} ne $PHN_SYS } @{ $got->{identifier} || [] } ],
          $ig->{identifier}, 'IG Patient, CR-ID-003: the 9 identifiers (every naming system) as sent');
ok(valid_phn(phn_of($got)), 'IG Patient: a valid PHN was assigned');
is_deeply([ sort map { "$_->{system}|$_->{value}" }
            @{ db_rows('SELECT system, value FROM cr_identifier '
                       . 'WHERE patient_id = ?', $id) } ],
          [ sort @sent_ids, "$PHN_SYS|" . (phn_of($got) // '') ],
          'IG Patient: stored identifiers are the 9 sent and the PHN');
is(db_row('SELECT COUNT(*) AS n FROM cr_search_index WHERE patient_id = ? '
          . "AND kind = 'email' AND value = ?", $id,
          'bly.beaule@cgi.com')->{n}, 1,
   'IG Patient: indexed for search (e-mail)');
