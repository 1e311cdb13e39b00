# The registry's outbound credentials (CR-NOT-007): with
# ClientRegistryOutboundToken every request the registry makes to a
# partner carries "Authorization: Bearer <token>" from the configured
# token endpoint (t/cgi/token.cgi, client credentials with HTTP Basic and
# the configured scope).  The token is cached per process until shortly
# before it expires; a partner's 401 makes the registry fetch a new token
# and try once more.  Seen here on the async callbacks (t/cgi/cb.cgi logs
# the Authorization header of each request).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Time::HiRes qw(sleep);
use CR::Test;
use CR::BC;

plan tests => 16;

my $tok = unique_token();
my $var = t_dir() . '/var';
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'ig.samples@cgi.com');
unlink "$var/cb-down", "$var/cb-revoked", "$var/token-down",
       "$var/token-expires";

sub lines_of {
    my $f = shift;
    open my $fh, '<', $f or return ();
    my @l = map { chomp; $_ } <$fh>;
    close $fh;
    return @l;
}
sub revise_async {
    my ($mid, $sri) = @_;
    return op_post('RevisePatient.Async', bc_request(
        params => sender_params($mid, 'CBTEST'),
        patient => { resourceType => 'Patient',
            extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ],
            identifier => [ { use => 'official', system => $fha,
                              value => $sri } ],
            name => [ { use => 'official', family => "Tok$tok",
                        given => ['Ida'] } ],
            gender => 'female', birthDate => '1990-02-03',
            # RevisePatient's own rules run before the 202 (CR-ASYNC-004).
            address => [ { type => 'physical', line => ['7 Token Way'],
                           city => 'Victoria', state => 'BC',
                           country => 'CA' } ] }), %U);
}
sub wait_delivered {
    my ($mid, $secs) = @_;
    for (1 .. $secs * 10) {
        my $j = db_row('SELECT status FROM cr_async_job WHERE message_id = ?',
                       $mid);
        return 1 if $j && $j->{status} eq 'delivered';
        sleep 0.1;
    }
    return 0;
}

# Start from a clean slate: no token issued, no callback seen.
unlink "$var/tokens.txt", "$var/cb-auth.log";
# A fresh server process has no token yet.
my $server = Apache::Test::config()->server;
server_stop();
$server->start;
Apache::TestRequest::user_agent(reset => 1);

my @mids = map { "tok-$_-$tok" } 1 .. 6;
for my $i (0 .. 5) {
    is(revise_async($mids[$i], "TK$i$tok")->code, 202,
       "CR-NOT-007: async request $i queued");
    ok(wait_delivered($mids[$i], 20), "CR-NOT-007: its response was "
       . "delivered");
}
my @issued = lines_of("$var/tokens.txt");
my @auth = lines_of("$var/cb-auth.log");
my %valid = map { (split / /)[0] => 1 } @issued;
is(scalar(grep { /^Bearer (\S+)$/ && $valid{$1} } @auth), scalar(@auth),
   'CR-NOT-007: every delivery carried "Authorization: Bearer" with a token '
   . 'the token endpoint issued (' . scalar(@auth) . ' deliveries)');
# One token per child process at most (the cache is per process).
my $pid = do { local @ARGV = (t_dir() . '/logs/httpd.pid'); <> };
chomp $pid;
my $children = () = grep { /^\s*\d+\s+$pid\s*$/ } `ps -e -o pid=,ppid=`;
ok(@issued >= 1 && @issued <= $children && @issued < @auth,
   'CR-NOT-007: tokens are cached per process (issued ' . scalar(@issued)
   . ' for ' . scalar(@auth) . " deliveries by $children children)");
is((split / /, $issued[0] // '', 2)[1], 'system/Patient.notify',
   'CR-NOT-007: the configured scope was asked for');

# ---- the partner refuses the token: a new one, and the delivery made ----
open my $fh, '>', "$var/cb-revoked" or die $!;
print $fh map { (split / /)[0] . "\n" } @issued;
close $fh;
my $before = @issued;
my $mid = "tok-revoked-$tok";
revise_async($mid, "TKR$tok");
ok(wait_delivered($mid, 20) && lines_of("$var/tokens.txt") > $before,
   'CR-NOT-007: after a 401 the registry fetched a new token and the '
   . 'delivery went through');
unlink "$var/cb-revoked";
