# The asynchronous operations (operations.md 6): $AddPatient.Async,
# $RevisePatient.Async, $PartialUpdatePatient.Async, $MergePatient.Async
# answer 202 with the IG's acknowledgement Bundle once the request is
# queued in the database; the worker runs it and POSTs the response to
# the sender's callback endpoint ([base]/Patient/$<Op>.Async, t/cgi/cb.cgi
# here), correlated by requestMessageId; retries with back-off while the
# endpoint is down, and delivery after an httpd restart.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Time::HiRes qw(sleep);
use CR::Test;
use CR::BC;

plan tests => 32;

my $tok = unique_token();
my $var = t_dir() . '/var';
my $down = "$var/cb-down";
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'ig.samples@cgi.com');
my $JSON = JSON::PP->new->canonical;
my $seq = 0;
unlink $down;

sub params { return sender_params($_[0], 'CBTEST') }
sub patient {
    my ($sri, %o) = @_;
    return { resourceType => 'Patient',
             extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ],
             identifier => [ { use => 'official', system => $fha,
                               value => $sri } ],
             name => [ { use => 'official', family => "Async$tok",
                         given => [ $o{given} // 'Ann' ] } ],
             gender => 'female', birthDate => '1985-05-05',
             address => [ { type => 'physical', line => ['5 Elm St'],
                            city => 'Surrey', state => 'BC',
                            country => 'CA' } ] };
}
# The callback received for request message id $mid, waiting up to $secs.
sub callback_for {
    my ($mid, $secs) = @_;
    for (1 .. $secs * 10) {
        for my $f (glob "$var/callbacks/*.txt") {
            open my $fh, '<', $f or next;
            my $path = <$fh>;
            chomp $path;
            my $body = do { local $/; <$fh> };
            close $fh;
            my $b = eval { $JSON->decode($body) } or next;
            my $p = params_of($b);
            next unless ($p->{requestMessageId} // '') eq $mid;
            return ($path, $b);
        }
        sleep 0.1;
    }
    return;
}
# How many callbacks carried requestMessageId $mid.
sub callbacks_for {
    my $mid = shift;
    my $n = 0;
    for my $f (glob "$var/callbacks/*.txt") {
        open my $fh, '<', $f or next;
        my $text = do { local $/; <$fh> };
        close $fh;
        $n++ if index($text, qq{"valueString":"$mid"}) >= 0
                && $text =~ /"requestMessageId"/;
    }
    return $n;
}
sub job { db_row('SELECT * FROM cr_async_job WHERE message_id = ?', $_[0]) }
sub wait_job {
    my ($mid, $cond, $secs) = @_;
    for (1 .. $secs * 10) {
        my $j = job($mid);
        return $j if $j && $cond->($j);
        sleep 0.1;
    }
    return job($mid);
}

# ---- AddPatient.Async: acknowledgement, then the callback ----------------
my $mid = "async-add-$tok";
my $res = op_post('AddPatient.Async', bc_request(params => params($mid),
    patient => patient("AS1$tok")), %U);
is($res->code, 202, 'CR-ASYNC-008: $AddPatient.Async: 202');
my $ack = json_of($res);
is($ack->{meta}{profile}[0], 'http://hlth.gov.bc.ca/fhir/client/'
   . 'StructureDefinition/bc-async-ack-response-bundle',
   'CR-ASYNC-002, CR-BND-009: the acknowledgement is an AsyncAck Bundle');
my ($pe) = entries_of($ack, 'Parameters');
is($pe->{resource}{meta}{profile}[0], 'http://hlth.gov.bc.ca/fhir/client/'
   . 'StructureDefinition/bc-metadata-parameter-async-response',
   'CR-ASYNC-002, CR-BND-009: MetadataParametersAsync');
is_deeply([ issues_of($ack) ], ['information business-rule BCHCIM.RP.0.0007'],
          'CR-ASYNC-002, CR-BND-009: BCHCIM.RP.0.0007 (accepted for processing)');
is(params_of($ack)->{requestMessageId}, $mid,
   'CR-ASYNC-003: requestMessageId is the request messageId');
is(scalar(patients_of($ack)), 0, 'CR-ASYNC-002, CR-BND-009: no Patient in the '
   . 'acknowledgement');
ok(job($mid), 'CR-ASYNC-001: the request was queued in the database');
my ($path, $cb) = callback_for($mid, 20);
is($path, '/Patient/$AddPatient.Async', 'CR-ASYNC-005, CR-ASYNC-006: the response was '
   . 'POSTed to [client-base]/Patient/$AddPatient.Async');
is_deeply([ issues_of($cb || {}) ],
          ['information business-rule BCHCIM.RP.0.0000'],
          'CR-ASYNC-005: the callback carries the AddPatient response');
my ($cp) = patients_of($cb || {});
ok($cp && db_row('SELECT id FROM cr_patient WHERE id = ?', $cp->{id}),
   'CR-ASYNC-005: the client was created');
is(wait_job($mid, sub { $_[0]{status} eq 'delivered' }, 5)->{status},
   'delivered', 'CR-ASYNC-007: the job is marked delivered');

# ---- RevisePatient.Async, PartialUpdatePatient.Async, MergePatient.Async ---
$mid = "async-rev-$tok";
$res = op_post('RevisePatient.Async', bc_request(params => params($mid),
    patient => patient("AS2$tok", given => 'Bea')), %U);
is($res->code, 202, 'CR-ASYNC-001, CR-GEN-005: $RevisePatient.Async (a code with a dot) routed to the async handler: 202');
($path, $cb) = callback_for($mid, 20);
is($path, '/Patient/$RevisePatient.Async', 'CR-ASYNC-001: delivered to '
   . '$RevisePatient.Async');
my ($rp) = patients_of($cb || {});
ok($rp, 'CR-ASYNC-001: the revise response carries the Patient');

$mid = "async-upd-$tok";
$res = op_post('PartialUpdatePatient.Async', bc_request(params => params($mid),
    patient => { resourceType => 'Patient',
                 identifier => [ { system => $fha, value => "AS2$tok" } ],
                 gender => 'male' }), %U);
is($res->code, 202, 'CR-ASYNC-008: $PartialUpdatePatient.Async: 202');
($path, $cb) = callback_for($mid, 20);
is($path, '/Patient/$PartialUpdatePatient.Async', 'CR-ASYNC-008: delivered');
is((patients_of($cb || {}))[0]{gender} // '', 'male',
   'CR-ASYNC-008: the update was applied');

$mid = "async-mrg-$tok";
$res = op_post('MergePatient.Async', bc_request(params => params($mid),
    patient => { resourceType => 'Patient',
                 identifier => [ { system => $fha, value => "AS1$tok" } ],
                 link => [ { type => 'replaces', other => { identifier => {
                     system => $fha, value => "AS2$tok" } } } ] }), %U);
is($res->code, 202, 'CR-ASYNC-008: $MergePatient.Async: 202');
($path, $cb) = callback_for($mid, 20);
is_deeply([ $path, issues_of($cb || {}) ],
          [ '/Patient/$MergePatient.Async',
            'information business-rule BCHCIM.PM.0.0008' ],
          'CR-ASYNC-008: the merge response was delivered');

# ---- rejected at once, not queued ---------------------------------------
$mid = "async-bad-$tok";
$res = op_post('RevisePatient.Async', bc_request(params => params($mid)), %U);
is($res->code, 400, 'CR-ASYNC-004: a request without a Patient is rejected '
   . 'at once: 400');
ok(!job($mid), 'CR-ASYNC-004: and not queued');

# ---- retry while the endpoint is down ------------------------------------
open my $fh, '>', $down or die $!;
close $fh;
$mid = "async-retry-$tok";
$res = op_post('RevisePatient.Async', bc_request(params => params($mid),
    patient => patient("AS3$tok", given => 'Cai')), %U);
is($res->code, 202, 'CR-ASYNC-007: queued while the callback endpoint is '
   . 'down');
my $j = wait_job($mid, sub { $_[0]{attempts} >= 2 }, 20);
ok($j->{attempts} >= 2 && $j->{status} eq 'queued',
   'CR-ASYNC-007: failed deliveries are retried');
ok($j->{next_attempt_at} gt $j->{updated},
   'CR-ASYNC-007: the next attempt is scheduled later (back-off)');
unlink $down;
($path, $cb) = callback_for($mid, 30);
ok($cb, 'CR-ASYNC-007: delivered once the endpoint is back');
is(wait_job($mid, sub { $_[0]{status} eq 'delivered' }, 5)->{status},
   'delivered', 'CR-ASYNC-007: marked delivered');
sleep 1.5;
is(callbacks_for($mid), 1, 'CR-ASYNC-007: delivered exactly once (one '
   . 'worker of all children holds a job)');

# ---- restart: the queue survives ----------------------------------------
open $fh, '>', $down or die $!;
close $fh;
$mid = "async-restart-$tok";
$res = op_post('AddPatient.Async', bc_request(params => params($mid),
    patient => patient("AS4$tok", given => 'Dee')), %U);
is($res->code, 202, 'CR-ASYNC-007: queued before the restart');
$j = wait_job($mid, sub { $_[0]{attempts} >= 1 }, 20);
is($j->{executed}, 1, 'CR-ASYNC-007: executed, delivery pending');
my $server = Apache::Test::config()->server;
server_stop();
sleep 0.5;
unlink $down;
ok(job($mid)->{status} ne 'delivered', 'CR-ASYNC-007: not delivered while '
   . 'httpd was down');
$server->start;
Apache::TestRequest::user_agent(reset => 1);
($path, $cb) = callback_for($mid, 40);
ok($cb, 'CR-ASYNC-007: delivered after the restart');
is(db_row('SELECT COUNT(*) AS n FROM cr_source_record WHERE sri_value = ?',
          "AS4$tok")->{n}, 1, 'CR-ASYNC-007: applied exactly once');
