# Delivery of change notifications (operations.md 7; CR-NOT-001..008):
# the notification worker sends each queued delivery of the outbox to its
# subscription's partner (t/cgi/partner.cgi) as POST
# [endpoint]/Patient/$PatientNotification with the
# SubscriptionNotificationBundle; a restricted client goes out masked; the
# registry's token goes with it; a partner that is down gets everything,
# in order, once it is up, without holding back the others; after the
# last attempt a delivery is parked, shown by $status and sent again by
# $resend.  Subscriptions and events are put into the database here
# (CR::Notify, with the fan-out of docs/notifications.md), so that this
# file tests the delivery side on its own.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Time::HiRes qw(sleep);
use CR::Test;
use CR::BC;
use CR::Notify;

plan tests => 47;

quiet_other_subscriptions();
my $tok = unique_token();
my $var = t_dir() . '/var';
my $CS = 'https://terminology.hlth.gov.bc.ca/ClientRegistry/CodeSystem/'
         . 'bc-client-registry-patient-change-notification-events';
my $CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
my $SRC = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
          . 'bc-sourceId-extension';
my @partners = map { "$_$$" } qw(pa pb pc pd);
my ($pa, $pb, $pc, $pd) = @partners;
for my $p (@partners) {
    partner_set($p, $_, 0) for qw(down slow token);
}

my $sa = make_subscription($pa, qw(NEW COMPOSITE DEATH));
my $sb = make_subscription($pb, qw(NEW COMPOSITE DEATH PHN));
my $sc = make_subscription($pc, qw(NEW));
my $sd = make_subscription($pd, qw(EID));

my ($res, $p) = create_patient(family => "Notif$tok", given => 'Nora',
                               birthDate => '1977-07-17');
is($res->code, 201, 'setup: a client');
my $pid = $p->{id};

sub received_mid {
    my ($partner, $m) = @_;
    return (grep { ($_->{mid} // '') eq $m } partner_received($partner))[0];
}

# ---- CR-NOT-001..005: the notification ----------------------------------
# (The create above queued its own NEW: t/api/notify_writes.t follows
# notifications from the writes; here the event is put in directly.)
my $ids = add_event('NEW', $pid, 1);
ok(wait_for(sub { received_mid($pa, $ids->{$sa}) }, 20),
   'CR-NOT-001: the subscribed partner received a notification');
my $n = received_mid($pa, $ids->{$sa}) || {};
is($n->{path}, "/$pa/Patient/\$PatientNotification",
   'CR-NOT-001: POSTed to [endpoint]/Patient/$PatientNotification');
my $b = $n->{body} || {};
is($b->{resourceType} . '/' . ($b->{type} // ''), 'Bundle/collection',
   'CR-NOT-002: a collection Bundle');
is($b->{meta}{profile}[0], 'http://hlth.gov.bc.ca/fhir/client/'
   . 'StructureDefinition/bc-subscription-notification-bundle',
   'CR-NOT-002: bc-subscription-notification-bundle');
my @e = @{ $b->{entry} || [] };
is(scalar(@e), 2, 'CR-NOT-002: two entries (Parameters, Patient)');
is(scalar(grep { ($_->{fullUrl} // '') =~ m{^(urn:uuid:|http://)} } @e), 2,
   'CR-NOT-002: every entry has a fullUrl');
is($e[0]{resource}{meta}{profile}[0], 'http://hlth.gov.bc.ca/fhir/client/'
   . 'StructureDefinition/bc-metadata-parameters-subscription',
   'CR-NOT-003: MetadataParametersSubscription');
is($n->{mid}, $ids->{$sa}, 'CR-NOT-003: messageId is the delivery id');
my ($et) = grep { $_->{name} eq 'eventType' } @{ $e[0]{resource}{parameter} };
is_deeply([ $et->{valueCodeableConcept}{coding}[0]{system},
            $et->{valueCodeableConcept}{coding}[0]{code} ], [ $CS, 'NEW' ],
          'CR-NOT-004: eventType is a CodeableConcept of the event code '
          . 'system');
is($e[1]{resource}{id}, $pid, 'CR-NOT-005: the Patient');
is($e[1]{fullUrl}, 'http://' . Apache::Test::vars('servername') . ':'
   . Apache::Test::vars('port') . "/fhir/Patient/$pid",
   'CR-NOT-005: its fullUrl below the registry base');
is($e[1]{resource}{name}[0]{family}, "Notif$tok",
   'CR-NOT-005: the full composite record');
my $d = wait_for(sub { my $x = delivery($ids->{$sa});
                       $x->{state} eq 'delivered' ? $x : undef }, 5);
is_deeply([ $d && $d->{state}, $d && $d->{attempts},
            $d && $d->{last_status} ], [ 'delivered', 1, 200 ],
          'CR-NOT-008: a 200 marks it delivered (state, attempts, status)');
ok(wait_for(sub { received_mid($pb, $ids->{$sb}) }, 20)
   && wait_for(sub { received_mid($pc, $ids->{$sc}) }, 20),
   'CR-NOT-001: every subscription of the event got it');
is(scalar(partner_received($pd)), 0, 'CR-NOT-009: a subscription to other '
   . 'codes got nothing');

# ---- CR-NOT-007: the registry's token -----------------------------------
my $cn = received_mid($pc, $ids->{$sc}) || {};
my %issued = map { (split / /)[0] => 1 } do {
    open my $fh, '<', "$var/tokens.txt" or die $!; <$fh> };
ok(($cn->{auth} // '') =~ /^Bearer (\S+)$/ && $issued{$1},
   'CR-NOT-007: the notification carries a Bearer token of the token '
   . 'endpoint');
partner_set($pc, 'token', 1);
# The partner now checks the token: only tokens the token endpoint issued
# pass (t/cgi/partner.cgi answers 401 to anything else).  The refresh on a
# 401 is t/api/outbound_token.t's.
$ids = add_event('NEW', $pid, 1);
ok(wait_for(sub { (delivery($ids->{$sc})->{state} // '') eq 'delivered' },
            20), 'CR-NOT-007: delivered to a partner that checks the token');
partner_set($pc, 'token', 0);

# ---- CR-NOT-006: a restricted client goes out masked --------------------
my $secret_family = "Hidden$tok";
my $secret_birth = sprintf('19%02d-10-%02d', 30 + int(rand(60)),
                           10 + int(rand(18)));
($res, my $m) = create_patient(family => $secret_family, given => 'Secreta',
                               birthDate => $secret_birth);
my $mid = $m->{id};
$m->{meta} = { security => [ { system => $CONF, code => 'R' } ] };
$m->{name}[0]{extension} = [ { url => $SRC, extension => [
    { url => 'sourceID', valueString => 'FHA_MT' } ] } ];
$res = fhir_put("/fhir/Patient/$mid", $m);
is($res->code, 200, 'setup: the client restricted (meta.security R)');
$ids = add_event('COMPOSITE', $mid, 2);
my $mn = wait_for(sub { received_mid($pa, $ids->{$sa}) }, 20);
ok($mn, 'CR-NOT-006: the restricted client\'s notification arrived');
my $text = $mn ? $mn->{text} : '';
ok($text !~ /\Q$secret_family\E/ && $text !~ /\Q$secret_birth\E/,
   'CR-NOT-006: its real name and birth date appear nowhere in the body');
like($text, qr/"masked"/, 'CR-NOT-006: data-absent-reason masked');
unlike($text, qr/bc-sourceId-extension/, 'CR-NOT-006: no '
       . 'bc-sourceId-extension');

# ---- down, then up: everything arrives, in order; others unaffected ----
partner_set($pb, 'down', 1);
my ($res2, $q) = create_patient(family => "Order$tok", given => 'Olga');
my $qid = $q->{id};
my @order = map { add_event($_, $qid, 1)->{$sb} } qw(NEW COMPOSITE PHN DEATH);
ok(wait_for(sub { (delivery($order[0])->{attempts} // 0) >= 2 }, 20),
   'CR-NOT-008: the first delivery is retried while the partner is down');
is(delivery($order[1])->{attempts}, 0, 'order: the client\'s later events '
   . 'wait for the first');
my $d0 = delivery($order[0]);
ok($d0->{next_attempt_at} gt $d0->{updated}, 'CR-NOT-008: the next attempt '
   . 'is scheduled later (back-off in the database)');
is($d0->{last_status}, 503, 'CR-NOT-008: the failed attempt\'s status is '
   . 'kept');
# Meanwhile another partner gets its notifications at once.
my $t0 = time;
$ids = add_event('COMPOSITE', $qid, 1);
ok(wait_for(sub { (delivery($ids->{$sa})->{state} // '') eq 'delivered' },
            10), 'a partner that is down holds back no other partner');
partner_set($pb, 'down', 0);
ok(wait_for(sub { !grep { (delivery($_)->{state} // '') ne 'delivered' }
                  @order }, 40), 'CR-NOT-008: everything arrives once the '
   . 'partner is up');
my @seen = grep { my $x = $_->{mid}; grep { $_ eq $x } @order }
           partner_received($pb);
my %first;
my @firsts = grep { !$first{$_}++ } map { $_->{mid} } @seen;
is_deeply(\@firsts, \@order, 'order: the events of one client reached the '
          . 'subscription in order');
is_deeply([ map { $_->{event} } grep { $_->{mid} eq $order[0] } @seen ],
          [ 'NEW' ], 'at least once: the stable messageId, received once '
          . 'here');

# ---- parked after the last attempt; $status; $resend --------------------
partner_set($pd, 'down', 1);
my ($res3, $z) = create_patient(family => "Park$tok", given => 'Pia');
my @park = map { add_event('EID', $z->{id}, 1)->{$sd} } 1 .. 2;
ok(wait_for(sub { !grep { (delivery($_)->{state} // '') ne 'parked' }
                  @park }, 60), 'after 4 failed attempts each delivery is '
   . 'parked');
is(delivery($park[0])->{attempts}, 4, 'parked after the configured number '
   . 'of attempts');
$res = fhir_get("/fhir/Subscription/$sd/\$status");
is($res->code, 200, '$status: 200');
my $st = json_of($res);
is($st->{type}, 'history', '$status: a history Bundle (backport R4)');
my %sp = map { $_->{name} => $_ } @{ $st->{entry}[0]{resource}{parameter}
                                     || [] };
is_deeply([ $sp{status}{valueCode}, $sp{type}{valueCode},
            $sp{subscription}{valueReference}{reference},
            $sp{parked}{valueUnsignedInt}, $sp{queued}{valueUnsignedInt} ],
          [ 'active', 'query-status', "Subscription/$sd", 2, 0 ],
          '$status: SubscriptionStatus with the parked and queued counts');
is($sp{'events-since-subscription-start'}{valueString}, '2',
   '$status: events since the start');
is(fhir_get('/fhir/Subscription/nosuch/$status')->code, 404,
   '$status of an unknown subscription: 404');
is(fhir_post("/fhir/Subscription/$sd/\$status", {})->code, 405,
   '$status takes GET: 405');
partner_set($pd, 'down', 0);
$res = fhir_post("/fhir/Subscription/$sd/\$resend",
                 { resourceType => 'Parameters', parameter => [
                     { name => 'messageId', valueString => 'nosuch' } ] });
is($res->code, 404, '$resend of an unknown messageId: 404');
$res = fhir_post("/fhir/Subscription/$sd/\$resend",
                 { resourceType => 'Patient' });
is($res->code, 400, '$resend with a body that is not Parameters: 400');
$res = fhir_post("/fhir/Subscription/$sd/\$resend",
                 { resourceType => 'Parameters' });
is($res->code, 200, '$resend: 200');
my %rp = map { $_->{name} => $_ } @{ json_of($res)->{parameter} || [] };
is($rp{resent}{valueUnsignedInt}, 2, '$resend: both parked deliveries');
ok(wait_for(sub { !grep { (delivery($_)->{state} // '') ne 'delivered' }
                  @park }, 30), 'the re-sent deliveries arrive');
my %pk = map { $_ => 1 } @park;
my @pm = grep { $pk{$_} } map { $_->{mid} } partner_received($pd);
is_deeply(\@pm, \@park, 'in order, with their original messageIds');
$res = fhir_get("/fhir/Subscription/$sd/\$status");
%sp = map { $_->{name} => $_ } @{ json_of($res)->{entry}[0]{resource}
                                  {parameter} || [] };
is_deeply([ $sp{parked}{valueUnsignedInt}, $sp{delivered}{valueUnsignedInt} ],
          [ 0, 2 ], '$status afterwards: none parked, two delivered');

# ---- CR-NOT-010: distributions go only to $PatientNotification -------------
my @paths = map { $_->{path} // '' } map { partner_received($_) } @partners;
ok(@paths > 0 && !(grep { !m{/Patient/\$PatientNotification\z} } @paths),
   'CR-NOT-010: every request a partner received was a '
   . '$PatientNotification (never a $RevisePatient.Async)');
