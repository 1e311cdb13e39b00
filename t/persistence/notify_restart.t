# Notifications survive httpd going away (CR-NOT-008, docs/notification-
# delivery.md): undelivered notifications -- a partner down while httpd is
# stopped, and deliveries under way when every httpd process is SIGKILLed
# -- all arrive after the start, in order per client, each with the
# messageId it was queued with (repeats of the same messageId allowed:
# delivery is at least once; never a second messageId for one event).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Time::HiRes qw(sleep);
use CR::Test;
use CR::Notify;

plan tests => 11;

quiet_other_subscriptions();
my $tok = unique_name("");
my ($pe, $pf) = ("pe$$", "pf$$");
for my $p ($pe, $pf) {
    partner_set($p, $_, 0) for qw(down slow token);
}
my $server = Apache::Test::config()->server;

# Every event reached partner $name in @$ids order (first receipts), and
# nothing else arrived there.
sub check_received {
    my ($name, $ids, $what) = @_;
    my @r = partner_received($name);
    my %want = map { $_ => 1 } @$ids;
    my %seen;
    my @first = grep { !$seen{$_}++ } map { $_->{mid} // '' } @r;
    is_deeply(\@first, $ids, "$what: every notification arrived, in order");
    is(scalar(grep { !$want{$_->{mid} // ''} } @r), 0,
       "$what: no other messageId (nothing sent twice under a new id)");
}

# ---- httpd stopped with undelivered notifications -----------------------
my $se = make_subscription($pe, qw(COMPOSITE));
my ($res, $p) = create_patient(family => "Stop$tok");
is($res->code, 201, 'setup: a client');
partner_set($pe, 'down', 1);
my @ids = map { add_event('COMPOSITE', $p->{id}, 1)->{$se} } 1 .. 3;
ok(wait_for(sub { (delivery($ids[0])->{attempts} // 0) >= 1 }, 20),
   'stop: a first attempt failed (partner down)');
server_stop();
partner_set($pe, 'down', 0);
is(scalar(grep { (delivery($_)->{state} // '') eq 'delivered' } @ids), 0,
   'stop: nothing delivered while httpd is down');
$server->start;
Apache::TestRequest::user_agent(reset => 1);
ok(wait_for(sub { !grep { (delivery($_)->{state} // '') ne 'delivered' }
                  @ids }, 40), 'stop: all delivered after the start');
check_received($pe, \@ids, 'stop');

# ---- SIGKILL of every httpd process while deliveries are under way ------
my $sf = make_subscription($pf, qw(COMPOSITE DEATH));
partner_set($pf, 'slow', 1);
my ($r2, $q) = create_patient(family => "Kill$tok");
my @kids = map { add_event($_, $q->{id}, 1)->{$sf} } qw(COMPOSITE DEATH
                                                         COMPOSITE);
ok(wait_for(sub { (delivery($kids[0])->{state} // '') eq 'sending' }, 20),
   'kill: the first delivery is under way (the partner is slow)');
my $pidfile = t_dir() . '/logs/httpd.pid';
my $ppid = do { local @ARGV = ($pidfile); <> };
chomp $ppid;
my @procs = ($ppid, map { /^\s*(\d+)\s+(\d+)\s*$/ && $2 == $ppid ? $1 : () }
                    `ps -e -o pid=,ppid=`);
kill 'KILL', @procs;
sleep 1;
unlink $pidfile;
partner_set($pf, 'slow', 0);
is(scalar(grep { (delivery($_)->{state} // '') eq 'delivered' } @kids), 0,
   'kill: none delivered when httpd died');
$server->start;
Apache::TestRequest::user_agent(reset => 1);
ok(wait_for(sub { !grep { (delivery($_)->{state} // '') ne 'delivered' }
                  @kids }, 60), 'kill: all delivered after the start (the '
   . 'dead worker\'s lease ran out)');
check_received($pf, \@kids, 'kill');
