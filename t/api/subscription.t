# [base]/Subscription (operations.md 7.2, docs/notifications.md): the IG's
# HCIMPatientChangeSubscription created, read, listed, replaced and
# deleted (CR-SUB-001, CR-SUB-006); every field the validator refuses,
# with the exact status, issue code and expression (CR-SUB-002..005,
# CR-TERM-002), nothing stored by a refused request; the endpoint
# allow-list (ClientRegistryNotifyAllow); ownership by the verified
# identity (certificates on /fhir-secure: the owner and the privileged
# administrator see a subscription, another partner gets 404); the audit
# records; the CapabilityStatement.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 139;

my $JSON = JSON::PP->new->canonical;
my $TOPIC = 'http://hlth.gov.bc.ca/fhir/client/SubscriptionTopic/'
          . 'HCIMPatientChangeDistribution';
my $FILTER = 'http://hl7.org/fhir/uv/subscriptions-backport/'
           . 'StructureDefinition/backport-filter-criteria';
my $EP = 'http://127.0.0.1:9/partner';

# The IG's sample with its payload fixed (the stray quote) and a local
# endpoint; $edit changes a copy.
sub sample {
    my $edit = shift;
    my $s = ig_fixture('Subscription-SampleCompositeSubscriptionRequest.json');
    $s->{channel}{payload} = 'application/fhir+json';
    $s->{channel}{endpoint} = $EP;
    $edit->($s) if $edit;
    return $s;
}
sub nsubs { db_row('SELECT COUNT(*) AS n FROM cr_subscription')->{n} }
sub row { db_row('SELECT * FROM cr_subscription WHERE id = ?', $_[0]) }
sub codes_of {
    join ' ', map { $_->{event_code} } @{ db_rows(
        'SELECT event_code FROM cr_subscription_event WHERE subscription_id'
        . ' = ? ORDER BY event_code', $_[0]) };
}

# ---- CR-SUB-001: create ------------------------------------------------------
my $res = fhir_post('/fhir/Subscription', sample());
is($res->code, 201, 'CR-SUB-001: the IG sample (payload fixed): 201');
my $s = json_of($res);
my $id = $s->{id};
like($id // '', qr/^[0-9a-f-]{36}$/, 'CR-SUB-001: the server assigns the id');
isnt($id, 'SampleCompositeSubscriptionRequest',
     'CR-SUB-001: the id sent is not kept');
like($res->header('Location') // '', qr{/fhir/Subscription/\Q$id\E/_history/1$},
     'CR-SUB-001: Location of version 1');
is($res->header('ETag'), 'W/"1"', 'CR-SUB-001: ETag W/"1"');
is($s->{status}, 'active', 'CR-SUB-001: active');
is($s->{criteria}, $TOPIC, 'CR-SUB-001: criteria kept');
is($s->{meta}{versionId}, '1', 'CR-SUB-001: meta.versionId 1');
my $r = row($id);
is($r->{owner}, 'anonymous', 'ownership: no verified identity on /fhir');
is($r->{status}, 'active', 'stored active');
is($r->{event_codes}, 'COMPOSITE', 'CR-SUB-004: stored event code COMPOSITE');
is(codes_of($id), 'COMPOSITE', 'CR-SUB-004: one code row');
is($r->{endpoint}, $EP, 'stored endpoint');
is($r->{payload}, 'full-resource', 'CR-SUB-005: stored payload full-resource');
is(db_row("SELECT COUNT(*) AS n FROM cr_audit WHERE operation = "
          . "'subscription-create' AND status = 201")->{n} >= 1, 1,
   'the create is audited');

# "requested" becomes active; several codes, in two filters and a list.
$res = fhir_post('/fhir/Subscription', sample(sub {
    $_[0]{status} = 'requested';
    $_[0]{_criteria}{extension} = [
        { url => $FILTER, valueString => 'eventCode=NEW,DEATH' },
        { url => $FILTER, valueString => 'eventCode=PHNMERGE' } ];
}));
is($res->code, 201, 'CR-SUB-004: several codes: 201');
my $id2 = json_of($res)->{id};
is(json_of($res)->{status}, 'active', 'requested becomes active');
is(row($id2)->{event_codes}, 'NEW DEATH PHNMERGE',
   'CR-SUB-004: the codes in the code system\'s order');
is(codes_of($id2), 'DEATH NEW PHNMERGE', 'CR-SUB-004: one row per code');
# The topic resource's url is accepted too (DECISION-12).
$res = fhir_post('/fhir/Subscription', sample(sub {
    $_[0]{criteria} = $TOPIC . 'Topic' }));
is($res->code, 201, 'CR-SUB-002: the topic resource\'s url: 201');
my $id3 = json_of($res)->{id};

# CR-TERM-002: every code of the code system is accepted.
$res = fhir_post('/fhir/Subscription', sample(sub {
    $_[0]{_criteria}{extension}[0]{valueString} = 'eventCode=' . join ',',
        qw(COMPOSITE DEATH EID NEW NEWBORN NEWBORN_GENDER PHN PHNJOIN
           PHNMERGE SSRI) }));
is($res->code, 201, 'CR-TERM-002: all ten codes: 201');
is(row(json_of($res)->{id})->{event_codes},
   'NEW NEWBORN NEWBORN_GENDER COMPOSITE DEATH PHN PHNMERGE PHNJOIN SSRI EID',
   'CR-TERM-002: all ten stored');
my $id4 = json_of($res)->{id};

# ---- every refused field ----------------------------------------------------
my $n = nsubs();
for my $c (
  [ 'CR-SUB-001: the IG sample as published (payload with a stray quote)',
    sub { $_[0]{channel}{payload} = "application/fhir+json\"" },
    422, ['not-supported@Subscription.channel.payload'] ],
  [ 'CR-SUB-002: another topic', sub { $_[0]{criteria} =
      'http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/'
      . 'HCIMPatientChangeDistributionTopic' },
    422, ['not-supported@Subscription.criteria'] ],
  [ 'CR-SUB-002: no criteria', sub { delete $_[0]{criteria} },
    400, ['required@Subscription.criteria'] ],
  [ 'CR-SUB-004: no filter', sub { delete $_[0]{_criteria} },
    400, ['required@Subscription._criteria.extension'] ],
  [ 'CR-SUB-004: unknown code', sub {
      $_[0]{_criteria}{extension}[0]{valueString} = 'eventCode=BOGUS' },
    422, ['code-invalid@Subscription._criteria.extension[0].valueString'] ],
  [ 'CR-SUB-004: COMP (the G5 examples) is not a code', sub {
      $_[0]{_criteria}{extension}[0]{valueString} = 'eventCode=COMP' },
    422, ['code-invalid@Subscription._criteria.extension[0].valueString'] ],
  [ 'CR-SUB-004: codes are case-sensitive', sub {
      $_[0]{_criteria}{extension}[0]{valueString} = 'eventCode=composite' },
    422, ['code-invalid@Subscription._criteria.extension[0].valueString'] ],
  [ 'CR-SUB-004: one unknown code among good ones', sub {
      $_[0]{_criteria}{extension}[0]{valueString} = 'eventCode=NEW,XX' },
    422, ['code-invalid@Subscription._criteria.extension[0].valueString'] ],
  [ 'CR-SUB-004: not an eventCode filter', sub {
      $_[0]{_criteria}{extension}[0]{valueString} = 'gender=female' },
    400, ['value@Subscription._criteria.extension[0].valueString'] ],
  [ 'CR-SUB-004: filter without a value', sub {
      delete $_[0]{_criteria}{extension}[0]{valueString} },
    400, ['required@Subscription._criteria.extension[0].valueString'] ],
  [ 'CR-SUB-003: websocket channel', sub {
      $_[0]{channel}{type} = 'websocket' },
    422, ['not-supported@Subscription.channel.type'] ],
  [ 'CR-SUB-003: no channel type', sub { delete $_[0]{channel}{type} },
    400, ['required@Subscription.channel.type'] ],
  [ 'CR-SUB-003: no endpoint', sub { delete $_[0]{channel}{endpoint} },
    400, ['required@Subscription.channel.endpoint'] ],
  [ 'CR-SUB-003: endpoint not a URL', sub {
      $_[0]{channel}{endpoint} = 'ftp://127.0.0.1/x' },
    400, ['value@Subscription.channel.endpoint'] ],
  [ 'CR-SUB-003: endpoint with user info', sub {
      $_[0]{channel}{endpoint} = 'http://u:p@127.0.0.1/x' },
    400, ['value@Subscription.channel.endpoint'] ],
  [ 'CR-SUB-003: no channel', sub { delete $_[0]{channel} },
    400, ['required@Subscription.channel'] ],
  [ 'CR-SUB-005: id-only payload', sub {
      $_[0]{channel}{_payload}{extension}[0]{valueCode} = 'id-only' },
    422, ['not-supported@Subscription.channel._payload.extension[0].valueCode'] ],
  [ 'CR-SUB-005: no payload content', sub { delete $_[0]{channel}{_payload} },
    400, ['required@Subscription.channel._payload.extension'] ],
  [ 'CR-SUB-005: XML payload', sub {
      $_[0]{channel}{payload} = 'application/fhir+xml' },
    422, ['not-supported@Subscription.channel.payload'] ],
  [ 'status error is the registry\'s', sub { $_[0]{status} = 'error' },
    400, ['value@Subscription.status'] ],
  [ 'no status', sub { delete $_[0]{status} },
    400, ['required@Subscription.status'] ],
  [ 'no reason', sub { delete $_[0]{reason} },
    400, ['required@Subscription.reason'] ],
  [ 'criteria not a string', sub { $_[0]{criteria} = [ $TOPIC ] },
    400, ['structure@Subscription.criteria'] ],
  [ 'not a Subscription', sub { $_[0]{resourceType} = 'Patient' },
    400, ['structure@Subscription.resourceType'] ],
  [ 'several problems: each named', sub {
      $_[0]{channel}{type} = 'email';
      $_[0]{_criteria}{extension}[0]{valueString} = 'eventCode=NOPE';
      delete $_[0]{reason} },
    400, ['required@Subscription.reason',
          'code-invalid@Subscription._criteria.extension[0].valueString',
          'not-supported@Subscription.channel.type'] ],
  [ 'allow-list: endpoint on another host', sub {
      $_[0]{channel}{endpoint} = 'http://example.org/subscription-response-channel' },
    422, ['business-rule@Subscription.channel.endpoint'] ],
  [ 'allow-list: a host that only starts like an allowed one', sub {
      $_[0]{channel}{endpoint} = 'http://127.0.0.1.example.org/x' },
    422, ['business-rule@Subscription.channel.endpoint'] ],
  [ 'allow-list: https to an allowed http prefix', sub {
      $_[0]{channel}{endpoint} = 'https://127.0.0.1/x' },
    422, ['business-rule@Subscription.channel.endpoint'] ],
) {
    my ($name, $edit, $status, $codes) = @$c;
    my $res = fhir_post('/fhir/Subscription', sample($edit));
    is($res->code, $status, "$name: $status");
    is_deeply(oo_codes($res), $codes, "$name: " . join(' ', @$codes));
}
is(nsubs(), $n, 'refused requests stored nothing');
# The allowed forms of the allow-list.
$res = fhir_post('/fhir/Subscription', sample(sub {
    $_[0]{channel}{endpoint} = 'http://localhost:8080/partner/fhir' }));
is($res->code, 201, 'allow-list: http://localhost with a port: 201');
my $id5 = json_of($res)->{id};

# ---- read, search, update, delete (CR-SUB-006) --------------------------------
$res = fhir_get("/fhir/Subscription/$id");
is($res->code, 200, 'read: 200');
is(json_of($res)->{id}, $id, 'read: the subscription');
is(json_of($res)->{channel}{endpoint}, $EP, 'read: its endpoint');
$res = fhir_get('/fhir/Subscription/nope-' . unique_token());
is($res->code, 404, 'read unknown: 404');
is_deeply(oo_codes($res), ['not-found'], 'read unknown: not-found');
$res = fhir_get('/fhir/Subscription');
is($res->code, 200, 'search: 200');
my %ids = map { $_->{resource}{id} => 1 } @{ json_of($res)->{entry} || [] };
ok($ids{$id} && $ids{$id2}, 'search: the caller\'s subscriptions');

my $upd = sample(sub {
    $_[0]{id} = $id;
    $_[0]{_criteria}{extension}[0]{valueString} = 'eventCode=NEW,DEATH' });
$res = fhir_put("/fhir/Subscription/$id", $upd);
is($res->code, 200, 'CR-SUB-006: PUT: 200');
is(json_of($res)->{meta}{versionId}, '2', 'CR-SUB-006: version 2');
is($res->header('ETag'), 'W/"2"', 'CR-SUB-006: ETag W/"2"');
is(row($id)->{event_codes}, 'NEW DEATH', 'CR-SUB-006: the codes replaced');
is(codes_of($id), 'DEATH NEW', 'CR-SUB-006: the code rows replaced');
is(row($id)->{version_id}, 2, 'CR-SUB-006: stored version 2');
$res = fhir_put("/fhir/Subscription/$id", $upd, 'If-Match' => 'W/"1"');
is($res->code, 412, 'PUT with a stale If-Match: 412');
is_deeply(oo_codes($res), ['conflict'], 'PUT with a stale If-Match: conflict');
$res = fhir_put("/fhir/Subscription/$id", $upd, 'If-Match' => 'W/"2"');
is($res->code, 200, 'PUT with the current If-Match: 200');
$res = fhir_put("/fhir/Subscription/$id2", $upd);
is($res->code, 400, 'PUT with another id in the body: 400');
is_deeply(oo_codes($res), ['invalid@Subscription.id'],
          'PUT with another id in the body: invalid@Subscription.id');
$res = fhir_put("/fhir/Subscription/$id", sample(sub {
    $_[0]{id} = $id;
    $_[0]{channel}{endpoint} = 'http://10.0.0.1/x' }));
is($res->code, 422, 'PUT outside the allow-list: 422');
is_deeply(oo_codes($res), ['business-rule@Subscription.channel.endpoint'],
          'PUT outside the allow-list: business-rule@Subscription.channel.endpoint');
is(row($id)->{endpoint}, $EP, 'PUT refused: endpoint unchanged');
my $unknown = 'nope-' . unique_token();
$res = fhir_put("/fhir/Subscription/$unknown", sample(sub {
    $_[0]{id} = $unknown }));
is($res->code, 404, 'PUT to an unknown id: 404 (the server assigns ids)');
ok(!row($unknown), 'PUT to an unknown id: nothing stored');
# status off pauses it.
$res = fhir_put("/fhir/Subscription/$id3", sample(sub {
    delete $_[0]{id};
    $_[0]{status} = 'off' }));
is($res->code, 200, 'PUT status off: 200');
is(row($id3)->{status}, 'off', 'PUT status off: stored off');

$res = fhir_request('DELETE', "/fhir/Subscription/$id");
is($res->code, 200, 'CR-SUB-006: DELETE: 200');
is(row($id)->{status}, 'deleted', 'CR-SUB-006: marked deleted');
is(codes_of($id), '', 'CR-SUB-006: no code rows left (no more events)');
$res = fhir_get("/fhir/Subscription/$id");
is($res->code, 410, 'read deleted: 410');
is_deeply(oo_codes($res), ['deleted'], 'read deleted: deleted');
$res = fhir_request('DELETE', "/fhir/Subscription/$id");
is($res->code, 200, 'DELETE again: 200 (idempotent)');
$res = fhir_put("/fhir/Subscription/$id", $upd);
is($res->code, 410, 'PUT on a deleted one: 410');
$res = fhir_request('DELETE', "/fhir/Subscription/$unknown");
is($res->code, 404, 'DELETE unknown: 404');
$res = fhir_get('/fhir/Subscription');
%ids = map { $_->{resource}{id} => 1 } @{ json_of($res)->{entry} || [] };
ok(!$ids{$id}, 'search: deleted ones are not listed');
is(db_row("SELECT COUNT(*) AS n FROM cr_audit WHERE operation = "
          . "'subscription-update' AND action = 'U' AND status = 200 AND "
          . "path LIKE ?", "%$id")->{n}, 2, 'the two updates are audited');
# The delete's record is written in its transaction; the second delete
# changed nothing and is audited later, by the log phase.
ok(db_row("SELECT COUNT(*) AS n FROM cr_audit WHERE operation = "
          . "'subscription-delete' AND action = 'D' AND status = 200 AND "
          . "path LIKE ?", "%$id")->{n} >= 1, 'the delete is audited');
$res = fhir_request('DELETE', '/fhir/Subscription');
is($res->code, 405, 'DELETE on the type: 405');

# ---- ownership (verified identities on /fhir-secure) --------------------------
sub secure {
    my ($method, $path, $body, $cert, %h) = @_;
    return fhir_request($method, "/fhir-secure$path", $body,
                        module => 'mod_ssl', ($cert ? (cert => $cert) : ()),
                        %h);
}
$res = secure('POST', '/Subscription', sample(), undef);
is($res->code, 403, 'no certificate: 403');
$n = nsubs();
$res = secure('POST', '/Subscription', sample(), 'client_fha');
is($res->code, 201, 'read-only partner (FHA_MT) may subscribe: 201');
my $fid = json_of($res)->{id};
like(row($fid)->{owner}, qr/CN=fha-meditech,OU=FHA_MT/, 'owner: FHA\'s certificate subject');
$res = secure('GET', "/Subscription/$fid", undef, 'client_fha');
is($res->code, 200, 'the owner reads it: 200');
$res = secure('GET', "/Subscription/$fid", undef, 'client_viha');
is($res->code, 404, 'another partner reads it: 404');
is_deeply(oo_codes($res), ['not-found'], 'another partner: not-found');
$res = secure('PUT', "/Subscription/$fid", sample(sub {
    $_[0]{id} = $fid;
    $_[0]{channel}{endpoint} = 'http://127.0.0.1:9/viha' }), 'client_viha');
is($res->code, 404, 'another partner changes it: 404');
$res = secure('DELETE', "/Subscription/$fid", undef, 'client_viha');
is($res->code, 404, 'another partner deletes it: 404');
is(row($fid)->{status}, 'active', 'another partner: still active');
is(row($fid)->{endpoint}, $EP, 'another partner: endpoint unchanged');
$res = secure('GET', '/Subscription', undef, 'client_viha');
is(json_of($res)->{total}, 0, 'another partner lists none of FHA\'s');
$res = secure('GET', '/Subscription', undef, 'client_fha');
is(json_of($res)->{total}, 1, 'the owner lists its own');
$res = fhir_get("/fhir/Subscription/$fid");
is($res->code, 404, 'an anonymous caller does not see it either: 404');
$res = secure('GET', "/Subscription/$fid", undef, 'client_admin');
is($res->code, 200, 'the privileged administrator reads it: 200');
$res = secure('GET', '/Subscription', undef, 'client_admin');
ok(json_of($res)->{total} >= 5, 'the administrator lists everybody\'s');
$res = secure('PUT', "/Subscription/$fid", sample(sub {
    $_[0]{id} = $fid;
    $_[0]{_criteria}{extension}[0]{valueString} = 'eventCode=EID' }),
    'client_admin');
is($res->code, 200, 'the administrator changes it: 200');
like(row($fid)->{owner}, qr/CN=fha-meditech,OU=FHA_MT/, 'an admin change keeps the owner');
$res = secure('DELETE', "/Subscription/$fid", undef, 'client_fha');
is($res->code, 200, 'the owner deletes it: 200');
is(nsubs(), $n + 1, 'one row stays (marked deleted)');

# ---- CapabilityStatement ---------------------------------------------------------
$res = fhir_get('/fhir/metadata');
my ($cs) = grep { $_->{type} eq 'Subscription' }
           @{ json_of($res)->{rest}[0]{resource} };
ok($cs, 'CapabilityStatement lists Subscription');
is_deeply($cs->{extension}, [ {
    url => 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/'
         . 'capabilitystatement-subscriptiontopic-canonical',
    valueCanonical => $TOPIC } ], 'with the topic canonical');
is_deeply([ sort map { $_->{code} } @{ $cs->{interaction} } ],
          [ qw(create delete read search-type update) ],
          'with its interactions');
