# POST [base]/Patient/$AddPatient (operations.md 3): force create with a
# purported PHN, force create with a new PHN, the newborn by mother's PHN,
# the minimum data set rules and every rejection (status, issue code,
# BCHCIM detail code), the stored source record and its attributes.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 51;

my $tok = unique_token();
my $sri = sprintf(SRI_SYS, 'viha-north');
my %U = (UserId => 'ig.samples@cgi.com');

sub person {
    my %o = @_;
    return { resourceType => 'Patient',
             ($o{identifier} ? (identifier => $o{identifier}) : ()),
             name => [ { use => 'usual', family => $o{family} // "Addfam$tok",
                         given => ['Ann'] } ],
             gender => 'female', birthDate => '1980-02-03',
             address => [ { type => 'physical', line => ['1 Main St'],
                            city => 'Victoria', state => 'BC',
                            country => 'CA' } ],
             %{ $o{extra} || {} } };
}

# ---- force create, new PHN ------------------------------------------------
my $res = op_post('AddPatient', bc_request(patient => person(
    identifier => [ { use => 'official', system => $sri,
                      value => "ADD1$tok" } ])), %U);
is($res->code, 201, 'CR-ADD-003: force create without PHN: 201');
my $b = json_of($res);
is_deeply([ issues_of($b) ], ['information business-rule BCHCIM.RP.0.0000'],
          'CR-ADD-003: BCHCIM.RP.0.0000 (a new PHN was assigned)');
my ($pat) = patients_of($b);
my ($phn) = map { $_->{value} } grep { $_->{system} eq PHN_SYS }
            @{ $pat->{identifier} };
like($phn // '', qr/^9\d{9}$/, 'CR-ADD-002: the Patient carries the new PHN');
my $row = db_row('SELECT * FROM cr_patient WHERE phn = ?', $phn);
ok($row, 'CR-ADD-002: the PHN is stored as the person\'s PHN');
is($row->{id}, $pat->{id}, 'CR-ADD-002: the Patient id is the stored id');
my $srcs = db_rows('SELECT * FROM cr_source_record WHERE patient_id = ? '
                   . 'ORDER BY source_system', $pat->{id});
is(scalar(@$srcs), 2, 'CR-PROV-001: a registry record and the source record');
is_deeply([ map { $_->{sri_value} // '' } @$srcs ], ['', "ADD1$tok"],
          'CR-PROV-001: the source record is keyed by its SRI');
my $attrs = db_rows('SELECT kind, user_id, period_end FROM cr_attribute '
                    . 'WHERE patient_id = ? ORDER BY kind', $pat->{id});
is_deeply([ map { $_->{kind} } @$attrs ],
          [ qw(address birthDate gender identifier identifier name) ],
          'CR-PROV-002: one attribute per element');
is_deeply([ grep { ($_->{user_id} // '') ne 'ig.samples@cgi.com' } @$attrs ],
          [], 'CR-PROV-003: each attribute records the user');
is(db_row('SELECT operation FROM cr_patient_version WHERE patient_id = ?',
          $pat->{id})->{operation}, 'add', 'CR-PROV-005: version 1 "add"');
is(params_of($b)->{enterer}{value}, 'ig.samples@cgi.com',
   'CR-PARAM-001: enterer from the UserId header');

# ---- force create with a purported PHN (IG example shape) ----------------
my $pphn = fresh_phn();
$res = op_post('AddPatient', bc_request(patient => person(
    identifier => [ { use => 'official', system => PHN_SYS,
                      value => $pphn } ])), %U);
is($res->code, 201, 'CR-ADD-004: force create with a purported PHN: 201');
$b = json_of($res);
is_deeply([ issues_of($b) ], ['information business-rule BCHCIM.RP.0.0021'],
          'CR-ADD-004: BCHCIM.RP.0.0021 (processed, PHN kept)');
ok(db_row('SELECT id FROM cr_patient WHERE phn = ?', $pphn),
   'CR-ADD-004: the purported PHN is the person\'s PHN');

# The same PHN again: held by another client.
$res = op_post('AddPatient', bc_request(patient => person(
    identifier => [ { use => 'official', system => PHN_SYS,
                      value => $pphn } ])), %U);
is($res->code, 422, 'CR-ADD-006: a PHN already held: 422');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0148'],
          'CR-ADD-006: BCHCIM.RP.2.0148');
is((issues_of(json_of($res)))[0] =~ /^error duplicate / ? 1 : 0, 1,
   'CR-ADD-006: issue code duplicate');

# ---- rejections -------------------------------------------------------------
my $bad = $pphn;
substr($bad, 9, 1) = (substr($bad, 9, 1) + 1) % 10;
my @cases = (
  [ 'CR-ADD-005: purported PHN with a wrong check digit',
    person(identifier => [ { system => PHN_SYS, value => $bad } ]),
    422, 'BCHCIM.RP.2.0141' ],
  [ 'CR-ADD-011: minimum data set: no birth date',
    do { my $p = person(); delete $p->{birthDate}; $p }, 422,
    'BCHCIM.RP.2.0140' ],
  [ 'CR-ADD-011: minimum data set: no gender',
    do { my $p = person(); delete $p->{gender}; $p }, 422,
    'BCHCIM.RP.2.0140' ],
  [ 'CR-ADD-012: minimum data set: no given name',
    do { my $p = person(); $p->{name} = [ { use => 'usual',
                                            family => 'Solo' } ]; $p },
    422, 'BCHCIM.RP.2.0140' ],
  [ 'CR-ADD-011: minimum data set: no PHN and no address',
    do { my $p = person(); delete $p->{address}; $p }, 422,
    'BCHCIM.RP.2.0140' ],
  [ 'CR-ADD-013: minimum data set: address without city',
    do { my $p = person(); delete $p->{address}[0]{city}; $p }, 422,
    'BCHCIM.RP.2.0140' ],
  [ 'CR-ADD-014: minimum data set: Canadian address without province',
    do { my $p = person(); delete $p->{address}[0]{state}; $p }, 422,
    'BCHCIM.RP.2.0140' ],
  [ 'CR-ADD-015: death date without a PHN',
    person(extra => { deceasedDateTime => '2020-01-01' }), 422,
    'BCHCIM.RP.2.0144' ],
);
for my $c (@cases) {
    my ($name, $p, $st, $code) = @$c;
    my $r = op_post('AddPatient', bc_request(patient => $p), %U);
    is($r->code, $st, "$name: $st");
    is_deeply(error_details(json_of($r)), [$code], "$name: $code");
}

# Envelope: two Patients, or two RelatedPersons.
$res = op_post('AddPatient', bc_request(patient => person(),
                                        entries => [ person() ]), %U);
is($res->code, 400, 'CR-ADD-010, CR-BND-003: two Patients: 400');
$res = op_post('AddPatient', bc_request(patient => person(), entries => [
    map { { resourceType => 'RelatedPerson',
            patient => { reference => 'urn:uuid:x' } } } 1 .. 2 ]), %U);
is($res->code, 400, 'CR-ADD-010, CR-BND-003: two RelatedPersons: 400');
# Illegal characters in a name: rejected (no filtering, recorded choice).
$res = op_post('AddPatient', bc_request(patient => person(
    family => "Bad\$tok%")), %U);
is_deeply([ $res->code, map { (split / /)[1] } issues_of(json_of($res)) ],
          [ 422, 'business-rule' ], 'CR-ADD-016: illegal characters in a '
          . 'name: 422 business-rule (rejected, not filtered)');

# Minimum data set with a PHN instead of an address.
$res = op_post('AddPatient', bc_request(patient => do {
    my $p = person(identifier => [ { system => PHN_SYS,
                                     value => fresh_phn() } ]);
    delete $p->{address}; $p }), %U);
is($res->code, 201, 'CR-ADD-011: name + DOB + gender + PHN is enough');

# No user id.
$res = op_post('AddPatient', bc_request(patient => person()));
is($res->code, 400, 'CR-REV-008: no UserId / enterer: 400');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0143'],
          'CR-REV-008: BCHCIM.RP.2.0143');
# The enterer parameter is a user id too.
$res = op_post('AddPatient', bc_request(
    params => [ { name => 'messageId', valueString => "m$tok" },
                { name => 'enterer', valueIdentifier => {
                    system => 'http://hlth.gov.bc.ca/fhir/client/bc-userid',
                    value => 'param.user@idir' } } ],
    patient => person(family => "Enterer$tok")));
is($res->code, 201, 'CR-REV-008: enterer parameter as user id: 201');

# ---- newborn by mother's PHN ------------------------------------------------
my $mphn = fresh_phn();
$res = op_post('AddPatient', bc_request(patient => person(
    family => "Mum$tok", identifier => [ { system => PHN_SYS,
                                           value => $mphn } ])), %U);
is($res->code, 201, 'setup: the mother');
my $nmth = { coding => [ { system =>
    'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code => 'NMTH' } ] };
my $baby = person(family => "Baby$tok", identifier => [
    { system => $sri, value => "BABY$tok" } ]);
delete $baby->{address};
$res = op_post('AddPatient', bc_request(patient => $baby, related => {
    resourceType => 'RelatedPerson',
    identifier => [ { use => 'official', system => PHN_SYS, value => $mphn } ],
    patient => { reference => 'urn:uuid:x' }, relationship => [ $nmth ] }),
    %U);
is($res->code, 201, 'CR-ADD-007: newborn with the mother\'s PHN (no address '
   . 'needed): 201');
$b = json_of($res);
my ($bp) = patients_of($b);
is(db_row("SELECT value FROM cr_search_index WHERE patient_id = ? AND "
          . "kind = 'mother-phn'", $bp->{id})->{value}, $mphn,
   'CR-ADD-007: the baby is linked to the mother (mother-phn key)');

$res = op_post('AddPatient', bc_request(patient => $baby, related => {
    resourceType => 'RelatedPerson',
    identifier => [ { system => PHN_SYS, value => fresh_phn() } ],
    patient => { reference => 'urn:uuid:x' }, relationship => [ $nmth ] }),
    %U);
is($res->code, 422, 'CR-ADD-009: unknown mother\'s PHN: 422');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0146'],
          'CR-ADD-009: BCHCIM.RP.2.0146');
$res = op_post('AddPatient', bc_request(patient => $baby, related => {
    resourceType => 'RelatedPerson',
    identifier => [ { system => PHN_SYS, value => $mphn } ],
    patient => { reference => 'urn:uuid:x' },
    relationship => [ { coding => [ { system =>
        'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
        code => 'FTH' } ] } ] }), %U);
is($res->code, 422, 'CR-ADD-008: RelatedPerson not NMTH: 422');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0147'],
          'CR-ADD-008: BCHCIM.RP.2.0147');

# ---- force create: never matched to an existing client ----------------------
my @ids;
for (1 .. 2) {
    my $r = op_post('AddPatient', bc_request(patient => person(
        family => "Twin$tok")), %U);
    push @ids, $r->code == 201 ? (patients_of(json_of($r)))[0]{id} : undef;
}
ok(defined $ids[0] && defined $ids[1] && $ids[0] ne $ids[1],
   'CR-ADD-017: the same demographics added twice make two clients');
is(db_row('SELECT COUNT(*) AS n FROM cr_match_duplicate WHERE patient_lo IN '
          . '(?, ?)', @ids[0, 1])->{n}, 0,
   'CR-ADD-017: a force create does not run the duplicate matching');

# ---- nothing of a rejected request is stored --------------------------------
is(db_row('SELECT COUNT(*) AS n FROM cr_source_record WHERE sri_value = ?',
          "BABY$tok")->{n}, 1, 'CR-TXN-001: rejected adds stored nothing');
fhir_valid($res, 'CR-GEN-034: the rejection is valid FHIR R4');
