# Nothing acknowledged is lost: data survives a graceful restart and a
# kill -9 of every httpd process right after the 201.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use CR::Test;

plan tests => 9;

my $server = Apache::Test::config()->server;

my ($res, $p) = create_patient(given => 'Durable');
is($res->code, 201, 'created before the restart');
my $id = $p->{id};

$server->stop;
$server->start;
Apache::TestRequest::user_agent(reset => 1);
$res = fhir_get("/fhir/Patient/$id");
is($res->code, 200, 'graceful restart: still there');
is_deeply(json_of($res), $p, 'graceful restart: byte-for-byte the same resource');

# Acknowledged, then every httpd process killed without warning.
my @ids;
for my $i (1 .. 5) {
    my ($r, $q) = create_patient(given => "Crash" . chr(96 + $i));
    push @ids, $q->{id} if $r->code == 201;
}
is(scalar @ids, 5, 'five creates acknowledged');
my $conf = t_dir() . '/conf/httpd.conf';
system('pkill', '-9', '-f', $conf);
sleep 1;
$server->start;
Apache::TestRequest::user_agent(reset => 1);
my $ok = grep { fhir_get("/fhir/Patient/$_")->code == 200 } @ids;
is($ok, 5, 'kill -9: every acknowledged create is still there');

# The server keeps working normally afterwards.
my $u = { %$p, gender => 'male' };
delete $u->{meta};
$res = fhir_put("/fhir/Patient/$id", $u, 'If-Match' => 'W/"1"');
is($res->code, 200, 'update after the restarts: 200');
is(json_of($res)->{meta}{versionId}, '2', 'update after the restarts: version 2');
($res) = create_patient();
is($res->code, 201, 'create after the restarts: 201');
ok(valid_phn(phn_of(json_of($res))), 'PHN allocation continues');
