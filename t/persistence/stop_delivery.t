# A child stops cleanly while its async worker is in the middle of a
# callback delivery (it holds a mod_dbd connection and waits on libcurl):
# the worker is stopped and joined before the child's pool frees the
# connection pool and the thread's own pool.  Before that, the child died
# at the stop (reslist assertion or segfault), which only the parent's
# "exit signal" line in the error_log showed.  The interrupted delivery
# is retried after the restart.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Time::HiRes qw(sleep);
use JSON::PP ();
use CR::Test;
use CR::BC;

plan tests => 7;

my $tok = unique_token();
my $var = t_dir() . '/var';
my $slow = "$var/cb-slow";
my $log = Apache::Test::vars('t_logs') . '/error_log';
my $fha = sprintf(SRI_SYS, 'fha-mt');
my $mid = "async-stop-$tok";
unlink "$var/cb-down";

sub job { db_row('SELECT * FROM cr_async_job WHERE message_id = ?', $_[0]) }
sub wait_job {
    my ($cond, $secs) = @_;
    for (1 .. $secs * 10) {
        my $j = job($mid);
        return $j if $j && $cond->($j);
        sleep 0.1;
    }
    return job($mid);
}
sub delivered {
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

open my $fh, '>', $slow or die "$slow: $!";
close $fh;
my $res = op_post('AddPatient.Async', bc_request(
    params => [ { name => 'messageId', valueString => $mid },
                { name => 'sender', valueIdentifier => {
                    system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
                    value => 'CBTEST' } } ],
    patient => {
        resourceType => 'Patient',
        extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/'
                             . 'StructureDefinition/bc-business-period-extension',
                         valuePeriod => { start => '2024-01-01' } } ],
        identifier => [ { use => 'official', system => $fha,
                          value => "ST$tok" } ],
        name => [ { use => 'official', family => "Stop$tok",
                    given => ['Eve'] } ],
        gender => 'female', birthDate => '1985-05-05',
        # The minimum data set: checked before the 202 (CR-ASYNC-004).
        address => [ { type => 'physical', line => ['5 Elm St'],
                       city => 'Surrey', state => 'BC', country => 'CA' } ] }),
    UserId => 'ig.samples@cgi.com');
is($res->code, 202, 'CR-ASYNC-007: queued for a slow callback endpoint');
# Executed and its result stored: the same tick now POSTs it, and the
# endpoint takes 3 s to answer.
my $j = wait_job(sub { $_[0]{executed} }, 20);
ok($j && $j->{executed}, 'CR-ASYNC-007: executed, delivery under way');
sleep 0.5;

my $from = -s $log || 0;
my $server = Apache::Test::config()->server;
server_stop();
sleep 1;   # the parent logs the children it reaps before it exits
unlink $slow;
my @bad;
if (open my $lf, '<', $log) {
    seek $lf, $from, 0;
    @bad = grep { /exit signal|AddressSanitizer|double free/ } <$lf>;
    close $lf;
}
is_deeply(\@bad, [], 'CR-ASYNC-007: no child crashed when stopped during '
          . 'a delivery');
# Two outcomes, by who notices first: the worker abandons the delivery
# (queued again as it was: attempts 0), or the receiver -- a CGI of this
# same httpd -- is gone first and the attempt failed (attempts 1).
my $stopped = job($mid);
my $why = $stopped->{last_error} // '';
ok($stopped->{status} eq 'queued'
   && ($why =~ /^interrupted/ ? $stopped->{attempts} == 0
                              : $stopped->{attempts} == 1),
   'CR-ASYNC-007: an abandoned delivery is queued again and not counted '
   . "as a failed attempt ($stopped->{status}, $stopped->{attempts}, $why)");

$server->start;
Apache::TestRequest::user_agent(reset => 1);
my $n = 0;
for (1 .. 400) {
    last if ($n = delivered()) > 0;
    sleep 0.1;
}
ok($n >= 1, 'CR-ASYNC-007: the interrupted delivery is made after the '
   . 'restart');
my $done = wait_job(sub { $_[0]{status} eq 'delivered' }, 10);
is($done->{status}, 'delivered', 'CR-ASYNC-007: marked delivered');
is($done->{attempts}, $stopped->{attempts} + 1, 'CR-ASYNC-007: the '
   . 'delivery after the restart is counted once');
