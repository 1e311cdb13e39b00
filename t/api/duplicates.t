# POST [base]/Patient/$resolve-duplicate: an administrator dismisses or
# reopens a pair of the potential-duplicate review list
# ($potential-duplicates); a dismissed pair stays dismissed when a later
# write finds it again; MergePatient closes the pair (status merged) and
# UnmergePatient reopens it.  Refusal of non-admin certificates:
# t/security/authz.t.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 70;

sub params { return { resourceType => 'Parameters', parameter => [ @_ ] } }
sub resolve { fhir_post('/fhir/Patient/$resolve-duplicate', params(@_)) }
sub listing { fhir_post('/fhir/Patient/$potential-duplicates', params(@_)) }
sub pid { return { name => $_[0], valueString => $_[1] } }
sub pref { return { name => $_[0], valueReference => { reference => "Patient/$_[1]" } } }
sub resolution { return { name => 'resolution', valueCode => $_[0] } }

# The pairs of a listing: { "lo hi" => status }.
sub pairs_of {
    my $p = json_of(shift) // {};
    my %r;
    for my $d (grep { $_->{name} eq 'duplicate' } @{ $p->{parameter} || [] }) {
        my %part = map { $_->{name} => $_ } @{ $d->{part} };
        (my $a = $part{patient}{valueReference}{reference}) =~ s{^Patient/}{};
        (my $b = $part{other}{valueReference}{reference}) =~ s{^Patient/}{};
        $r{"$a $b"} = $part{status}{valueCode};
    }
    return \%r;
}
sub stored_status {
    my ($lo, $hi) = @_;
    my $r = db_row('SELECT status FROM cr_match_duplicate WHERE patient_lo = ?'
                   . ' AND patient_hi = ?', $lo, $hi);
    return $r ? $r->{status} : undef;
}
sub audits {
    my $pair = shift;
    return db_row("SELECT COUNT(*) AS n FROM cr_audit WHERE operation = "
                  . "'resolve-duplicate' AND patients = ?", $pair)->{n};
}

# --- a pair found at create time --------------------------------------------
my $R = sprintf '%04d', int(rand(10000));
my %person = (family => unique_name('Thistlewood'), given => 'Cordelia',
              birthDate => (1930 + int(rand(50))) . '-04-17',
              phone => "250557$R",
              postal => sprintf('V9A %d%s%d', int(rand(10)),
                                chr(65 + int(rand(26))), int(rand(10))));
my ($res, $one) = create_patient(%person);
is($res->code, 201, 'setup: the first record');
($res, my $two) = create_patient(%person);
is($res->code, 201, 'setup: its duplicate');
my ($lo, $hi) = sort ($one->{id}, $two->{id});
my $pair = "$lo $hi";
is(stored_status($lo, $hi), 'open', 'setup: the pair is on the review list, open');

# --- bad input ----------------------------------------------------------------
my $before = db_row('SELECT COALESCE(MAX(seq), 0) AS n FROM cr_audit')->{n};
for my $c (
  [ 'CR-DUP-020: a Patient body instead of Parameters',
    { resourceType => 'Patient' }, 'invalid@Parameters' ],
  [ 'CR-DUP-021: no other', params(pid(patient => $lo), resolution('open')),
    'required@Parameters.parameter' ],
  [ 'CR-DUP-021: no patient at all', params(resolution('open')),
    'required@Parameters.parameter', 'required@Parameters.parameter' ],
  [ 'CR-DUP-022: no resolution', params(pid(patient => $lo), pid(other => $hi)),
    'required@Parameters.parameter' ],
  [ 'CR-DUP-023: an unknown resolution',
    params(pid(patient => $lo), pid(other => $hi), resolution('duplicate')),
    'code-invalid@Parameters.parameter[2].valueCode' ],
  [ 'CR-DUP-023: a resolution that is not a valueCode',
    params(pid(patient => $lo), pid(other => $hi),
           { name => 'resolution', valueString => 'open' }),
    'invalid@Parameters.parameter[2].valueCode' ],
  [ 'CR-DUP-024: the same patient twice',
    params(pid(patient => $lo), pref(other => $lo), resolution('open')),
    'invalid@Parameters.parameter[1]' ],
  [ 'CR-DUP-025: an unknown parameter',
    params(pid(patient => $lo), pid(other => $hi), resolution('open'),
           { name => 'reason', valueString => 'checked by phone' }),
    'not-supported@Parameters.parameter[3].name' ],
  [ 'CR-DUP-026: patient given twice',
    params(pid(patient => $lo), pid(patient => $hi), pid(other => $hi),
           resolution('open')), 'invalid@Parameters.parameter[1]' ],
  [ 'CR-DUP-026: a patient that is not an id',
    params(pid(patient => 'no such id!'), pid(other => $hi), resolution('open')),
    'invalid@Parameters.parameter[0]' ],
) {
    my ($name, $body, @codes) = @$c;
    $res = fhir_post('/fhir/Patient/$resolve-duplicate', $body);
    is($res->code, 400, "$name: 400");
    is_deeply(oo_codes($res), \@codes, "$name: @codes");
}
is(stored_status($lo, $hi), 'open', 'CR-DUP-020: rejected requests change nothing');

# --- a pair that is not on the list --------------------------------------------
($res, my $third) = create_patient(family => unique_name('Quill'),
                                   birthDate => '1999-09-09',
                                   phone => "778558$R", postal => 'V2C 1B2');
$res = resolve(pid(patient => $lo), pid(other => $third->{id}),
               resolution('not-duplicate'));
is($res->code, 404, 'CR-DUP-027: a pair not on the review list: 404');
is_deeply(oo_codes($res), ['not-found@Parameters.parameter'],
          'CR-DUP-027: not-found');
is(db_row("SELECT COUNT(*) AS n FROM cr_audit WHERE operation = "
          . "'resolve-duplicate' AND seq > ?", $before)->{n}, 0,
   'CR-DUP-027: no decision was recorded for the rejected requests');
is(db_row('SELECT COUNT(*) AS n FROM cr_match_duplicate WHERE patient_lo = ? '
          . 'OR patient_hi = ?', $third->{id}, $third->{id})->{n}, 0,
   'CR-DUP-027: nothing was added to the list');

# --- dismiss --------------------------------------------------------------------
$res = resolve(pref(patient => $hi), pid(other => $lo),
               resolution('not-duplicate'));
is($res->code, 200, 'CR-DUP-001: dismissing a pair: 200');
like($res->header('Content-Type'), qr{^application/fhir\+json},
     'CR-DUP-001: FHIR JSON');
my $p = json_of($res);
is($p->{resourceType}, 'Parameters', 'CR-DUP-001: a Parameters resource');
is_deeply(pairs_of($res), { $pair => 'not-duplicate' },
          'CR-DUP-001: the pair (smaller id first) with its new status');
is(stored_status($lo, $hi), 'not-duplicate', 'CR-DUP-001: stored as not-duplicate');
is(audits($pair), 1, 'CR-DUP-002: the decision is audited with both patients');
my $a = db_row("SELECT * FROM cr_audit WHERE operation = 'resolve-duplicate'"
               . ' AND patients = ? ORDER BY seq DESC', $pair);
is($a->{action}, 'U', 'CR-DUP-002: as an update');
is($a->{status}, 200, 'CR-DUP-002: with status 200');
is(db_row('SELECT COUNT(*) AS n FROM cr_audit_patient WHERE seq = ?',
          $a->{seq})->{n}, 2, 'CR-DUP-002: findable by either patient');

# The listing: open by default, the other statuses on request.
is(pairs_of(listing(pid(patient => $lo)))->{$pair}, undef,
   'CR-DUP-003: a dismissed pair leaves the open list');
$res = listing(pid(patient => $lo), { name => 'status', valueCode => 'not-duplicate' });
is($res->code, 200, 'CR-DUP-003: listing by status: 200');
is(pairs_of($res)->{$pair}, 'not-duplicate', 'CR-DUP-003: the dismissed pair, with its status');
$res = listing({ name => 'status', valueCode => 'dismissed' });
is($res->code, 400, 'CR-DUP-004: listing an unknown status: 400');
is_deeply(oo_codes($res), ['code-invalid@Parameters.parameter[0].valueCode'],
          'CR-DUP-004: code-invalid');

# --- found again by a later write: stays dismissed ----------------------------
my $cur = json_of(fhir_get("/fhir/Patient/$two->{id}"));
$res = fhir_put("/fhir/Patient/$two->{id}", $cur, 'Request-Id' => "again-$R");
is($res->code, 200, 'CR-DUP-005: an update of one of the pair: 200');
my $row = db_row('SELECT * FROM cr_match_duplicate WHERE patient_lo = ? AND '
                 . 'patient_hi = ?', $lo, $hi);
is($row->{message_id}, "again-$R", 'CR-DUP-005: the update found the pair again');
is($row->{found_by}, 'update', 'CR-DUP-005: found by the update');
is($row->{status}, 'not-duplicate', 'CR-DUP-005: and it stays dismissed');
is(pairs_of(listing(pid(patient => $lo)))->{$pair}, undef,
   'CR-DUP-005: not back on the open list');

# --- reopen ------------------------------------------------------------------------
$res = resolve(pid(patient => $lo), pref(other => $hi), resolution('open'));
is($res->code, 200, 'CR-DUP-006: reopening: 200');
is_deeply(pairs_of($res), { $pair => 'open' }, 'CR-DUP-006: open again');
is(stored_status($lo, $hi), 'open', 'CR-DUP-006: stored open');
is(pairs_of(listing(pid(patient => $lo)))->{$pair}, 'open',
   'CR-DUP-006: back on the open list');
is(audits($pair), 2, 'CR-DUP-006: audited too');
$res = resolve(pid(patient => $lo), pid(other => $hi), resolution('open'));
is($res->code, 200, 'CR-DUP-006: reopening an open pair again: 200 (idempotent)');

# --- MergePatient closes the pair, UnmergePatient reopens it -------------------
my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'dup.review@moh');
my $MS = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-merge-status-extension';
sub bc_person {
    my ($sri, $family, $given, $dob) = @_;
    my $r = op_post('RevisePatient', bc_request(patient => {
        resourceType => 'Patient',
        extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/'
                                . 'StructureDefinition/bc-business-period-extension',
                         valuePeriod => { start => '2024-01-01' } } ],
        identifier => [ { use => 'official', system => $fha, value => $sri } ],
        name => [ { use => 'official', family => $family, given => [$given] } ],
        gender => 'male', birthDate => $dob,
        address => [ { type => 'physical', line => ["$given St"],
                       city => 'Kelowna', state => 'BC', country => 'CA' } ],
    }), %U);
    die 'setup revise: ' . $r->code . $r->content
        unless $r->code == 201 || $r->code == 200;
    my ($pt) = patients_of(json_of($r));
    return $pt->{id};
}
sub merge_req {
    my ($surv, $ns) = @_;
    return bc_request(patient => {
        resourceType => 'Patient',
        identifier => [ { use => 'official', system => $fha, value => $surv } ],
        link => [ { extension => [ { url => $MS, valueCode => 'obsolete' } ],
                    other => { identifier => { system => $fha, value => $ns } },
                    type => 'replaces' } ] });
}
my $ida = bc_person("DA$tok", "Dupmergeone$tok", 'Alan', '1960-01-01');
my $idb = bc_person("DB$tok", "Dupmergetwo$tok", 'Bert', '1961-02-02');
my ($mlo, $mhi) = sort ($ida, $idb);
# The two were not found as duplicates (different people): put the pair
# on the list as a write would have.
db_dbh()->do(q{INSERT INTO cr_match_duplicate (patient_lo, patient_hi, score,
               weight, grade, found, found_by, message_id, status) VALUES
               (?, ?, 0.9, 10, 'probable', '2026-01-01T00:00:00.000Z',
                'revise', NULL, 'open')}, undef, $mlo, $mhi);
is(stored_status($mlo, $mhi), 'open', 'setup: the pair to merge is open');
$res = op_post('MergePatient', merge_req("DA$tok", "DB$tok"), %U);
is($res->code, 200, 'CR-DUP-010: MergePatient: 200');
is(stored_status($mlo, $mhi), 'merged', 'CR-DUP-010: the merged pair has status merged');
is(pairs_of(listing(pid(patient => $mlo)))->{"$mlo $mhi"}, undef,
   'CR-DUP-010: and leaves the open list');
is(pairs_of(listing(pid(patient => $mlo), { name => 'status', valueCode => 'merged' }))
   ->{"$mlo $mhi"}, 'merged', 'CR-DUP-010: listed under merged');
$res = resolve(pid(patient => $mlo), pid(other => $mhi), resolution('open'));
is($res->code, 409, 'CR-DUP-011: reopening a merged pair: 409');
is_deeply(oo_codes($res), ['conflict@Parameters.parameter'], 'CR-DUP-011: conflict');
is(stored_status($mlo, $mhi), 'merged', 'CR-DUP-011: the pair stays merged');
$res = op_post('UnmergePatient', merge_req("DA$tok", "DB$tok"), %U);
is($res->code, 200, 'CR-DUP-012: UnmergePatient: 200');
is(stored_status($mlo, $mhi), 'open', 'CR-DUP-012: the unmerged pair is open again');

# A pair a reviewer dismissed keeps its decision through a merge and an
# unmerge (the merge settles open pairs only).
$res = resolve(pid(patient => $mlo), pid(other => $mhi),
               resolution('not-duplicate'));
is($res->code, 200, 'CR-DUP-013: the reopened pair dismissed: 200');
$res = op_post('MergePatient', merge_req("DA$tok", "DB$tok"), %U);
is($res->code, 200, 'CR-DUP-013: merged anyway: 200');
is(stored_status($mlo, $mhi), 'not-duplicate',
   'CR-DUP-013: the merge keeps the reviewer\'s not-duplicate');
$res = op_post('UnmergePatient', merge_req("DA$tok", "DB$tok"), %U);
is($res->code, 200, 'CR-DUP-013: unmerged: 200');
is(stored_status($mlo, $mhi), 'not-duplicate',
   'CR-DUP-013: the unmerge does not reopen a dismissed pair');

# --- CapabilityStatement ---------------------------------------------------------
my $cs = json_of(fhir_get('/fhir/metadata'));
my ($pr) = grep { $_->{type} eq 'Patient' } @{ $cs->{rest}[0]{resource} || [] };
my ($op) = grep { $_->{name} eq 'resolve-duplicate' } @{ $pr->{operation} || [] };
ok($op, 'CR-DUP-030: the CapabilityStatement lists $resolve-duplicate');
like($op ? $op->{definition} : '', qr{/OperationDefinition/Patient-resolve-duplicate$},
     'CR-DUP-030: with its definition');
