# The potential-duplicate review list ($potential-duplicates) and the
# maintenance operations: MergePatient closes a pair (status merged) and
# UnmergePatient reopens it.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 7;

sub params { return { resourceType => 'Parameters', parameter => [ @_ ] } }
sub listing { fhir_post('/fhir/Patient/$potential-duplicates', params(@_)) }
sub pid { return { name => $_[0], valueString => $_[1] } }

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
my $res = op_post('MergePatient', merge_req("DA$tok", "DB$tok"), %U);
is($res->code, 200, 'CR-DUP-010: MergePatient: 200');
is(stored_status($mlo, $mhi), 'merged', 'CR-DUP-010: the merged pair has status merged');
is(pairs_of(listing(pid(patient => $mlo)))->{"$mlo $mhi"}, undef,
   'CR-DUP-010: and leaves the open list');
is(pairs_of(listing(pid(patient => $mlo), { name => 'status', valueCode => 'merged' }))
   ->{"$mlo $mhi"}, 'merged', 'CR-DUP-010: listed under merged');
$res = op_post('UnmergePatient', merge_req("DA$tok", "DB$tok"), %U);
is($res->code, 200, 'CR-DUP-012: UnmergePatient: 200');
is(stored_status($mlo, $mhi), 'open', 'CR-DUP-012: the unmerged pair is open again');

