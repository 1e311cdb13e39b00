# Idempotent $merge and $merge.Async (CR-PARAM-004, ops/cr_idem.c): their
# messageId is the Request-Id header.  A repeat from the same sender gets
# the original answer (status and body) without the merge being done
# again; the same Request-Id with another body, or for the other
# operation, is refused with 422 BCHCIM.PM.2.0440; a refused merge claims
# nothing; the async form's repeat gets the original 202 and no second
# job.  Each message has its own Request-Id (one Request-Id on two
# different requests is now a reuse).  The concurrent case is
# t/concurrency/merge_idempotency.t, the restart
# t/persistence/merge_idempotency_restart.t.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 30;

my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'merge.idem@test');
my $JSON = JSON::PP->new->canonical;

sub ref_p { { name => $_[0], valueReference => {
                  reference => "Patient/$_[1]" } } }
sub merge {
    my ($op, $target, $source, $mid) = @_;
    return op_post($op, { resourceType => 'Parameters', parameter => [
        ref_p('target-patient', $target), ref_p('source-patient', $source) ]
    }, %U, ($mid ? ('Request-Id' => $mid) : ()));
}
# "detail@expression" of the answer's outcome issues.
sub pissues {
    my $b = shift;
    my ($p) = grep { $_->{name} eq 'outcome' } @{ $b->{parameter} || [] };
    return map { ($_->{details}{coding}[0]{code} // '-')
                 . ($_->{expression} ? '@' . $_->{expression}[0] : '') }
           @{ $p ? $p->{resource}{issue} : [] };
}
sub count { db_row(@_)->{n} }
sub events { count('SELECT COUNT(*) AS n FROM cr_merge_event WHERE '
                   . 'message_id = ?', $_[0]) }
sub writes { count("SELECT COUNT(*) AS n FROM cr_audit WHERE action = 'U' "
                   . 'AND message_id = ?', $_[0]) }
sub versions { count('SELECT COUNT(*) AS n FROM cr_patient_version WHERE '
                     . 'patient_id = ?', $_[0]) }

my ($ida) = merge_person($fha, "MIA$tok", "Mergeidema$tok", 'Alan',
                         '1960-01-01', %U);
my ($idb) = merge_person($fha, "MIB$tok", "Mergeidemb$tok", 'Bert',
                         '1961-02-02', %U);
my ($idc) = merge_person($fha, "MIC$tok", "Mergeidemc$tok", 'Cora',
                         '1962-03-03', %U);

# ---- a synchronous $merge, repeated --------------------------------------------
my $mid = "merge-idem-$tok";
my $res = merge('merge', $ida, $idb, $mid);
is($res->code, 200, 'CR-PARAM-004: $merge with a Request-Id: 200')
    or diag $res->content;
my $first = json_of($res);
is(client_state($idb)->{replaced_by}, $ida, 'CR-MRG-003: B merged into A');
is(events($mid), 1, 'CR-PARAM-004: stored: one merge event');
is(writes($mid), 1, 'CR-PARAM-004: stored: one audited write');
my %v = (a => versions($ida), b => versions($idb));
my $state_b = client_state($idb);
my $row = db_row('SELECT * FROM cr_idempotency WHERE message_id = ?', $mid);
is_deeply([ $row->{status}, $row->{operation} ], [ 200, 'merge' ],
          'CR-PARAM-004: stored: the answer of merge, 200');

$res = merge('merge', $ida, $idb, $mid);
is($res->code, 200, 'CR-PARAM-004: the repeat: the original 200 (not '
   . '"already merged")') or diag $res->content;
is($JSON->encode(json_of($res)), $JSON->encode($first),
   'CR-PARAM-004: the repeat: the original body');
is(events($mid), 1, 'CR-PARAM-004: the repeat merged nothing (one event)');
is(writes($mid), 1, 'CR-PARAM-004: ... no second audited write');
is_deeply([ versions($ida), versions($idb) ], [ $v{a}, $v{b} ],
          'CR-PARAM-004: ... no new version of either client');
is_deeply(client_state($idb), $state_b, 'CR-PARAM-004: ... B as it was');

# ---- the same Request-Id, another request ---------------------------------------
$res = merge('merge', $ida, $idc, $mid);
is($res->code, 422, 'CR-PARAM-004: same Request-Id, another source: 422');
is_deeply([ pissues(json_of($res)) ], [ 'BCHCIM.PM.2.0440' ],
          'CR-PARAM-004: BCHCIM.PM.2.0440 (the header, no body element)');
is(client_state($idc)->{replaced_by}, undef,
   'CR-PARAM-004: stored: C not merged');
$res = merge('merge.Async', $ida, $idb, $mid);
is($res->code, 422, 'CR-PARAM-004: same Request-Id for $merge.Async: 422');
is_deeply([ pissues(json_of($res)) ], [ 'BCHCIM.PM.2.0440' ],
          'CR-PARAM-004: ... BCHCIM.PM.2.0440');
is(count('SELECT COUNT(*) AS n FROM cr_async_job WHERE message_id = ?',
         $mid), 0, 'CR-PARAM-004: ... and nothing queued');

# ---- a refused merge is not remembered ------------------------------------------
my $rmid = "merge-idem-rej-$tok";
$res = merge('merge', $ida, $idb, $rmid);
is($res->code, 422, 'CR-PARAM-004: merging B again (already merged): 422');
is(count('SELECT COUNT(*) AS n FROM cr_idempotency WHERE message_id = ?',
         $rmid), 0, 'CR-PARAM-004: a refusal claims no Request-Id');
$res = merge('merge', $ida, $idc, $rmid);
is($res->code, 200, 'CR-PARAM-004: a corrected request with that '
   . 'Request-Id is processed: 200');
is(client_state($idc)->{replaced_by}, $ida, 'CR-MRG-003: C merged into A');
is(events($rmid), 1, 'CR-PARAM-004: stored: one merge event for it');

my ($idd) = merge_person($fha, "MID$tok", "Mergeidemd$tok", 'Dora',
                         '1963-04-04', %U);
my ($ide) = merge_person($fha, "MIE$tok", "Mergeideme$tok", 'Emil',
                         '1964-05-05', %U);
# ---- $merge.Async: the original 202 and job --------------------------------------
my $amid = "merge-idem-async-$tok";
$res = merge('merge.Async', $idd, $ide, $amid);
is($res->code, 202, 'CR-PARAM-004: $merge.Async: 202') or diag $res->content;
my $ack = json_of($res);
my $loc = $res->header('Content-Location');
$res = merge('merge.Async', $idd, $ide, $amid);
is($res->code, 202, 'CR-PARAM-004: its repeat: 202');
is($JSON->encode(json_of($res)), $JSON->encode($ack),
   'CR-PARAM-004: ... the original acknowledgement');
is($res->header('Content-Location'), $loc, 'CR-PARAM-004: ... the same job');
is(count('SELECT COUNT(*) AS n FROM cr_async_job WHERE message_id = ?',
         $amid), 1, 'CR-PARAM-004: stored: one job, not two');
my $j;
for (1 .. 600) {   # up to 60 s: the worker polls
    $j = db_row('SELECT * FROM cr_async_job WHERE message_id = ?', $amid);
    last if $j && $j->{executed};
    select undef, undef, undef, 0.1;
}
is($j->{result_status}, 200, 'CR-ASYNC-008: the worker merged: 200');
# After the job ran, the repeat still gets the 202 (not "already merged").
$res = merge('merge.Async', $idd, $ide, $amid);
is($res->code, 202, 'CR-PARAM-004: the repeat after the job ran: the '
   . 'original 202');
is(events($amid), 1, 'CR-PARAM-004: stored: one merge event');
