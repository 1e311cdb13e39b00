# Notifications from real writes, end to end (CR-NOT-001, CR-NOT-009):
# partners subscribe with POST [base]/Subscription (endpoint t/cgi/
# partner.cgi), the registry's writes record their events in the outbox,
# and the worker delivers each subscribed event -- and only those -- with
# the Patient version the write made.  The event rules per write path are
# t/api/events.t's; this file follows the events to the partner.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use CR::Test;
use CR::BC;
use CR::Notify;

plan tests => 9;

quiet_other_subscriptions();
my $tok = unique_token();
my ($pw, $px) = ("pw$$", "px$$");
sub subscribe { subscribe_partner(@_) }
# The events partner $name received about client $pid: "CODE:version".
sub got {
    my ($name, $pid) = @_;
    return join ' ', map {
        my ($pat) = grep { ($_->{resource}{resourceType} // '') eq 'Patient' }
                    @{ $_->{body}{entry} || [] };
        ($pat->{resource}{id} // '') eq $pid
            ? "$_->{event}:$pat->{resource}{meta}{versionId}" : () }
        partner_received($name);
}

ok(subscribe($pw, 'NEW,COMPOSITE,DEATH'), 'CR-SUB-001: a partner subscribes '
   . 'to NEW, COMPOSITE and DEATH');
ok(subscribe($px, 'DEATH'), 'CR-SUB-001: another to DEATH only');

my ($res, $p) = create_patient(family => "Writes$tok", given => 'Wendy');
is($res->code, 201, 'create: 201');
my $pid = $p->{id};
ok(wait_for(sub { got($pw, $pid) eq 'NEW:1' }, 20),
   'CR-NOT-001: the create\'s NEW arrived with version 1');
delete $p->{meta};
$p->{name}[0]{given} = ['Wanda'];
is(fhir_put("/fhir/Patient/$pid", $p)->code, 200, 'update: 200');
ok(wait_for(sub { got($pw, $pid) eq 'NEW:1 COMPOSITE:2' }, 20),
   'CR-NOT-001: the update\'s COMPOSITE arrived with version 2, after NEW');
$p->{deceasedDateTime} = '2026-01-02T03:04:05Z';
is(fhir_put("/fhir/Patient/$pid", $p)->code, 200, 'death: 200');
ok(wait_for(sub { got($pw, $pid) =~ /^NEW:1 COMPOSITE:2 (COMPOSITE:3 DEATH:3|DEATH:3 COMPOSITE:3)$/ },
            20), 'CR-NOT-001: the death\'s events arrived with version 3');
ok(wait_for(sub { got($px, $pid) eq 'DEATH:3' }, 20),
   'CR-NOT-009: the DEATH-only partner got the DEATH event and nothing '
   . 'else');
