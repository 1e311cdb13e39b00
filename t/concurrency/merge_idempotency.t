# Sixteen identical $merge requests with one Request-Id, sent at once
# (CR-PARAM-004, ops/cr_idem.c; the Request-Id is $merge's messageId): the
# merge is done exactly once -- one merge event, one audited write, the
# source replaced by the target once -- and every request gets the first
# one's answer (200 and its Parameters), none "already merged".
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;
use CR::Parallel;
use Time::HiRes qw(time);

plan tests => 8;

my $CLIENTS = 16;
my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'merge.race@test');
my $JSON = JSON::PP->new->canonical;

my ($ida) = merge_person($fha, "MRA$tok", "Mergeracea$tok", 'Alan',
                         '1960-01-01', %U);
my ($idb) = merge_person($fha, "MRB$tok", "Mergeraceb$tok", 'Bert',
                         '1961-02-02', %U);
my %v = map { $_ => db_row('SELECT COUNT(*) AS n FROM cr_patient_version '
                           . 'WHERE patient_id = ?', $_)->{n} } $ida, $idb;
my $body = { resourceType => 'Parameters', parameter => [
    { name => 'target-patient', valueReference => {
        reference => "Patient/$ida" } },
    { name => 'source-patient', valueReference => {
        reference => "Patient/$idb" } } ] };

my $mid = "merge-race-$tok";
my @r = run_clients($CLIENTS, time + 0.5, sub {
    my $res = op_post('merge', $body, %U, 'Request-Id' => $mid);
    return join "\t", $res->code, $JSON->encode(json_of($res) || {});
});
is(scalar @r, $CLIENTS, 'every client answered');
is(scalar(grep { /^200\t/ } @r), $CLIENTS,
   'CR-PARAM-004: 16 identical $merge requests at once: all 200')
    or diag join "\n", map { substr($_, 0, 400) } grep { !/^200\t/ } @r;
my %bodies = map { (split /\t/, $_, 2)[1] => 1 } @r;
is(scalar keys %bodies, 1, 'CR-PARAM-004: all got the same body');
is(db_row('SELECT COUNT(*) AS n FROM cr_merge_event WHERE message_id = ?',
          $mid)->{n}, 1, 'CR-PARAM-004: stored: one merge event');
is(db_row("SELECT COUNT(*) AS n FROM cr_audit WHERE action = 'U' AND "
          . 'message_id = ?', $mid)->{n}, 1,
   'CR-PARAM-004: stored: one audited write');
is(client_state($idb)->{replaced_by}, $ida,
   'CR-MRG-003: stored: the source replaced by the target');
is_deeply([ map { db_row('SELECT COUNT(*) AS n FROM cr_patient_version '
                         . 'WHERE patient_id = ?', $_)->{n} - $v{$_} }
            $ida, $idb ], [ 1, 1 ],
          'CR-PARAM-004: stored: one new version of each client (one merge)');
is(db_row('SELECT COUNT(*) AS n FROM cr_idempotency WHERE message_id = ?',
          $mid)->{n}, 1, 'CR-PARAM-004: stored: one claim');
