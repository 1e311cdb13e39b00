# The asynchronous operations for a sender without a callback endpoint
# (operations.md 6; the FHIR asynchronous request pattern, docs/async.md):
# the 202 names the job's status URL in Content-Location; polling it
# answers 202 (Retry-After) while the job is queued, and 200 with the
# operation's response Bundle once the worker ran it -- the job is never
# left queued for want of a ClientRegistryCallback.  The result is kept
# in the database: it is still there after an httpd restart, and a job
# queued while httpd was down runs after the start.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Time::HiRes qw(sleep);
use CR::Test;
use CR::BC;

plan tests => 27;

my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'ig.samples@cgi.com');

# NOCB has no ClientRegistryCallback (t/conf/extra.conf.in has CBTEST).
sub params { return sender_params($_[0], 'NOCB') }
sub patient {
    my ($sri, $given) = @_;
    return { resourceType => 'Patient',
             extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ],
             identifier => [ { use => 'official', system => $fha,
                               value => $sri } ],
             name => [ { use => 'official', family => "Poll$tok",
                         given => [ $given ] } ],
             gender => 'female', birthDate => '1979-09-09',
             address => [ { type => 'physical', line => ['9 Oak St'],
                            city => 'Surrey', state => 'BC',
                            country => 'CA' } ] };
}
sub job { db_row('SELECT * FROM cr_async_job WHERE id = ?', $_[0]) }
# Poll $path until it answers something else than 202 (at most $secs).
sub poll {
    my ($path, $secs) = @_;
    my $res;
    for (1 .. $secs * 10) {
        $res = fhir_get($path);
        return $res if $res->code != 202;
        sleep 0.1;
    }
    return $res;
}
sub status_path {
    my $res = shift;
    my $cl = $res->header('Content-Location') // '';
    return $cl =~ m{(/fhir/async/[0-9a-f-]{36})$} ? $1 : undef;
}

# ---- RevisePatient.Async without a callback: 202 + Content-Location ------
my $mid = "poll-rev-$tok";
my $res = op_post('RevisePatient.Async', bc_request(params => params($mid),
    patient => patient("PL1$tok", 'Ada')), %U);
is($res->code, 202, 'CR-ASYNC-001: $RevisePatient.Async without a callback: '
   . '202');
my $path = status_path($res);
ok($path, 'CR-ASYNC-001: the 202 gives the status URL in Content-Location '
   . '([base]/async/{id})');
my ($id) = ($path // '') =~ m{([^/]+)$};
my $j = db_row('SELECT * FROM cr_async_job WHERE message_id = ?', $mid);
is($j && $j->{id}, $id, 'CR-ASYNC-001: the status URL names the queued job');

$res = poll($path, 20);
is($res->code, 200, 'CR-ASYNC-001: polled once the job ran: 200');
my $b = json_of($res);
is_deeply([ issues_of($b) ], ['information business-rule BCHCIM.RP.0.0000'],
          'CR-ASYNC-001: the body is the $RevisePatient response Bundle');
is(params_of($b)->{requestMessageId}, $mid,
   'CR-ASYNC-003: requestMessageId is the request messageId');
my ($p) = patients_of($b);
ok($p && db_row('SELECT id FROM cr_patient WHERE id = ?', $p->{id}),
   'CR-ASYNC-001: the client was written');
$j = job($id);
is($j->{status}, 'completed', 'CR-ASYNC-001: the job is completed (no '
   . 'callback to deliver to), not failed nor queued');
is($j->{executed}, 1, 'CR-ASYNC-001: and executed');
is($j->{result_status}, 201, 'CR-ASYNC-001: the stored result status (201: '
   . 'the client was created)');
is(json_of(fhir_get($path))->{id}, $b->{id},
   'CR-ASYNC-001: polling again answers the same stored result');

# ---- a rejected request still completes; its Bundle says why -------------
$mid = "poll-bad-$tok";
$res = op_post('PartialUpdatePatient.Async', bc_request(params => params($mid),
    patient => { resourceType => 'Patient',
                 identifier => [ { system => $fha,
                                   value => "NOSUCH$tok" } ],
                 gender => 'male' }), %U);
is($res->code, 202, 'CR-ASYNC-008: $PartialUpdatePatient.Async: 202');
$res = poll(status_path($res) // '/fhir/async/x', 20);
is($res->code, 200, 'CR-ASYNC-008: polled: 200 (processing finished)');
my @iss = issues_of(json_of($res));
ok(@iss && $iss[0] =~ /^error /, 'CR-ASYNC-008: the response Bundle carries '
   . "the operation's error ($iss[0])");
my $bj = db_row('SELECT * FROM cr_async_job WHERE message_id = ?', $mid);
ok($bj->{result_status} >= 400, 'CR-ASYNC-008: the stored result status is '
   . "the operation's ($bj->{result_status})");

# ---- unknown job, bad id, wrong method -----------------------------------
$res = fhir_get("/fhir/async/00000000-0000-4000-8000-000000000000");
is($res->code, 404, 'an unknown job: 404');
is_deeply(oo_codes(json_of($res)), ['not-found'],
          'an unknown job: OperationOutcome not-found');
$res = fhir_get('/fhir/async/bad!id');
is($res->code, 400, 'a malformed job id: 400');
$res = fhir_post($path, {});
is($res->code, 405, 'POST to a status URL: 405');

# ---- queued: 202 with Retry-After ----------------------------------------
# A copy of the finished job, due in an hour: queued, not run yet.
my $qid = '11111111-2222-4333-8444-' . sprintf('%012d', $$);
my $src = db_row('SELECT * FROM cr_async_job WHERE id = ?', $id);
sub insert_copy {
    my ($new, $due) = @_;
    db_dbh()->do('INSERT INTO cr_async_job (id, operation, body, settings, '
        . 'message_id, org_id, source_system, user_id, client_dn, if_match, '
        . "status, executed, attempts, next_attempt_at, created, updated) "
        . "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'queued', 0, 0, ?, ?, ?)",
        undef, $new, $src->{operation}, $src->{body}, $src->{settings},
        "$new-m", 'NOCB', $src->{source_system}, $src->{user_id},
        $src->{client_dn}, $due, $src->{created}, $src->{created});
}
insert_copy($qid, '2999-01-01T00:00:00.000Z');
$res = fhir_get("/fhir/async/$qid");
is($res->code, 202, 'a queued job: 202');
is($res->header('Retry-After'), 1, 'a queued job: Retry-After');

# ---- restart: kept results, and a job queued while httpd was down -------
my $server = Apache::Test::config()->server;
server_stop();
my $did = 'aaaaaaaa-2222-4333-8444-' . sprintf('%012d', $$);
insert_copy($did, '2000-01-01T00:00:00.000Z');
db_dbh()->do('UPDATE cr_async_job SET next_attempt_at = ? WHERE id = ?',
             undef, '2000-01-01T00:00:00.000Z', $qid);
$server->start;
Apache::TestRequest::user_agent(reset => 1);
$res = fhir_get($path);
is($res->code, 200, 'after the restart: the kept result is still served');
is(json_of($res)->{id}, $b->{id}, 'after the restart: the same result');
$res = poll("/fhir/async/$did", 30);
is($res->code, 200, 'a job queued while httpd was down runs after the '
   . 'start: 200');
# The same revise again: applied, nothing changed (BCHCIM.RP.0.0021).
is_deeply([ issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.RP.0.0021'],
          'after the restart: its $RevisePatient response Bundle');
is(job($did)->{status}, 'completed', 'after the restart: its job is '
   . 'completed');
is(poll("/fhir/async/$qid", 30)->code, 200,
   'the job that was waiting runs once due: 200');
