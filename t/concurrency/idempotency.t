# Sixteen identical $AddPatient requests with one messageId, sent at once
# (CR-PARAM-004, ops/cr_idem.c): the work is done exactly once -- one
# client, one version, one claim -- and every request gets the same
# answer, the first one's (201 and its Bundle).  Then sixteen at once
# with one messageId but each its own body: one is processed, the rest
# are refused (422 BCHCIM.RP.2.0440) or given its answer -- never a second
# client.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;
use CR::Parallel;
use Time::HiRes qw(time);

plan tests => 9;

my $CLIENTS = 16;
my $tok = unique_token();
my $sri = sprintf(SRI_SYS, 'viha-north');
my $JSON = JSON::PP->new->canonical;

sub body {
    my ($mid, $given) = @_;
    return bc_request(
        params => [ { name => 'messageId', valueString => $mid } ],
        patient => { resourceType => 'Patient',
            identifier => [ { use => 'official', system => $sri,
                              value => "CC$tok$given" } ],
            name => [ { use => 'usual', family => "Idemrace$tok",
                        given => [ $given ] } ],
            gender => 'male', birthDate => '1975-06-07',
            address => [ { type => 'physical', line => ['2 Race St'],
                           city => 'Victoria', state => 'BC',
                           country => 'CA' } ] });
}

my $mid = "idem-race-$tok";
my @r = run_clients($CLIENTS, time + 0.5, sub {
    my $res = op_post('AddPatient', body($mid, 'Same'),
                      UserId => 'race@test');
    my $b = json_of($res) || {};
    my ($p) = patients_of($b);
    return join "\t", $res->code, $p ? $p->{id} : '-', $JSON->encode($b);
});
is(scalar @r, $CLIENTS, 'every client answered');
is(scalar(grep { /^201\t/ } @r), $CLIENTS,
   'CR-PARAM-004: 16 identical requests at once: all 201')
    or diag join "\n", map { substr($_, 0, 300) } grep { !/^201\t/ } @r;
my %ids = map { (split /\t/)[1] => 1 } @r;
is(scalar keys %ids, 1, 'CR-PARAM-004: all name the same client');
my %bodies = map { (split /\t/, $_, 3)[2] => 1 } @r;
is(scalar keys %bodies, 1, 'CR-PARAM-004: all got the same body');
is(db_row("SELECT COUNT(DISTINCT patient_id) AS n FROM cr_search_index "
          . "WHERE kind = 'family' AND value = ?", lc "Idemrace$tok")->{n},
   1, 'CR-PARAM-004: stored: the work was done exactly once (one client)');
my ($id) = keys %ids;
is(db_row('SELECT COUNT(*) AS n FROM cr_patient_version WHERE patient_id = ?',
          $id)->{n}, 1, 'CR-PARAM-004: stored: one version');

# One messageId, sixteen different bodies at once.
my $mid2 = "idem-race2-$tok";
@r = run_clients($CLIENTS, time + 0.5, sub {
    my $c = shift;
    my $res = op_post('AddPatient', body($mid2, 'Given' . chr(96 + $c)),
                      UserId => 'race@test');
    my $b = json_of($res) || {};
    return join "\t", $res->code, join(',', @{ error_details($b) || [] });
});
my $ok = grep { /^201\t/ } @r;
my $refused = grep { /^422\tBCHCIM\.RP\.2\.0440$/ } @r;
is($ok + $refused, $CLIENTS, 'CR-PARAM-004: 16 different bodies with one '
   . 'messageId: each 201 (the winner\'s answer) or 422 BCHCIM.RP.2.0440')
    or diag join "\n", @r;
is($ok, 1, 'CR-PARAM-004: exactly one 201 (the other bodies differ)');
is(db_row('SELECT COUNT(*) AS n FROM cr_source_record WHERE sri_value '
          . 'LIKE ?', "CC${tok}Given%")->{n}, 1,
   'CR-PARAM-004: stored: one client of the sixteen');
