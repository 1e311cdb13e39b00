# The output policy (operations.md 0.7, CR-FC-031, CR-GD-022/023/024,
# CR-EXT-009): every read path x restricted / not x privileged / not x
# client certificate / bearer token.  A caller that is not privileged
# never finds the restricted client's family name, given name, street,
# postal code, phone or birth date anywhere in a response, nor any
# bc-sourceId-extension; a privileged caller sees both, and the audit
# trail records that it did.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestUtil qw(t_cmp);
use CR::Test;
use CR::BC;
use FindBin;

my $have_oauth = Apache::Test::need_module('auth_openidc');
my @callers = (
    [ 'certificate, not privileged', module => 'mod_ssl',
      cert => 'client_viha', base => '/fhir-secure', priv => 0 ],
    [ 'certificate, privileged', module => 'mod_ssl',
      cert => 'client_admin', base => '/fhir-secure', priv => 1 ],
    [ 'plain http, not privileged', base => '/fhir', priv => 0 ],
);
if ($have_oauth) {
    push @callers,
        [ 'token, not privileged', module => 'cr_oauth', base => '/fhir',
          token => [ 'readwrite', 'system/Patient.read',
                     'system/Patient.write' ], priv => 0 ],
        [ 'token, privileged', module => 'cr_oauth', base => '/fhir',
          token => [ 'admin', 'system/Patient.read', 'system/Patient.write',
                     'privileged' ], priv => 1 ];
}
my $PATHS = 12;
plan tests => 4 + @callers * ($PATHS * 2 + 3) + 8;

my $top = "$FindBin::Bin/../..";
sub token {
    my @args = @_;
    local $ENV{CR_TOKEN_KEY} = Apache::Test::vars('t_conf') . '/oauth/signing.key';
    my $t = `sh $top/tools/cr-token @args`;
    chomp $t;
    return $t;
}

my $tok = unique_token();
my $R = sprintf '%04d', int(rand(10000));
my %secret = (family => "Privfam$tok", given => "Privgiv$tok",
              street => "9$R Hiddenlane Rd", postal => sprintf('V0X %dZ%d',
              int(rand(10)), int(rand(10))), phone => "250777$R",
              birthDate => sprintf('19%02d-11-%02d', 20 + int(rand(60)),
                                   10 + int(rand(18))));
my $CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
my $SRC = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
          . 'bc-sourceId-extension';
sub client {
    my (%o) = @_;
    return { resourceType => 'Patient',
        ($o{label} ? (meta => { security => [ { system => $CONF,
                                                code => $o{label} } ] })
                   : ()),
        identifier => [ { system => PHN_SYS, value => $o{phn} } ],
        name => [ { use => 'official', family => $o{family},
                    given => [ $o{given} ],
                    extension => [ { url => $SRC, extension => [
                        { url => 'sourceID', valueString => 'FHA_MT' },
                        { url => 'userID', valueString => 'jdoe' } ] } ] } ],
        telecom => [ { system => 'phone', value => $o{phone},
                       use => 'home' } ],
        gender => 'female', birthDate => $o{birthDate},
        address => [ { type => 'physical', line => [ $o{street} ],
                       city => 'Victoria', state => 'BC',
                       postalCode => $o{postal}, country => 'CA' } ] };
}

# The restricted client: created open, then restricted by an update, so
# that version 1 does not say it (a vread of it must still be masked).
my $phn = fresh_phn();
my $res = fhir_post('/fhir/Patient', client(%secret, phn => $phn));
is($res->code, 201, 'setup: the client');
my $id = json_of($res)->{id};
$res = fhir_put("/fhir/Patient/$id", { %{ client(%secret, phn => $phn,
                                                 label => 'R') }, id => $id });
is($res->code, 200, 'setup: restricted by an update (meta.security R)');
is(db_row('SELECT masked FROM cr_patient WHERE id = ?', $id)->{masked}, 1,
   'setup: the store flags it');
# An open client beside it (same family for the search forms).
my $ophn = fresh_phn();
$res = fhir_post('/fhir/Patient', client(family => $secret{family},
    given => "Opengiv$tok", phn => $ophn, phone => '2505550111',
    birthDate => '1970-01-02', street => '1 Open St', postal => 'V8V 1A1'));
is($res->code, 201, 'setup: an open client of the same family');
my $oid = json_of($res)->{id};

sub bc_body {
    my (%o) = @_;
    return bc_request(params => [ { name => 'messageId',
                                    valueString => "priv$tok" },
                                  @{ $o{params} || [] } ],
                      patient => $o{patient});
}
my $match_body = { resourceType => 'Parameters', parameter => [
    { name => 'resource', resource => client(%secret, phn => $phn) } ] };
my $hist = [ { name => 'history', valueBoolean => JSON::PP::true } ];
my @paths = (
    [ 'read', GET => "Patient/$id" ],
    [ 'vread of version 1', GET => "Patient/$id/_history/1" ],
    [ 'history', GET => "Patient/$id/_history" ],
    [ 'search', GET => "Patient?family=$secret{family}" ],
    [ 'BC search', GET => "Patient?family=$secret{family}&given="
                          . "$secret{given}&birthdate=$secret{birthDate}",
      bc => 1 ],
    [ 'BC read', GET => "Patient/$id", bc => 1 ],
    [ 'BC read with history', GET => "Patient/$id/_history", bc => 1 ],
    [ '$HistoryPatient', GET => "Patient/$id/\$HistoryPatient" ],
    [ '$match', POST => 'Patient/$match', body => $match_body ],
    [ '$GetDemographics with history', POST => 'Patient/$GetDemographics',
      body => bc_body(params => $hist, patient => { resourceType => 'Patient',
          identifier => [ { system => PHN_SYS, value => $phn } ] }) ],
    [ '$FindCandidates', POST => 'Patient/$FindCandidates',
      body => bc_body(patient => { resourceType => 'Patient',
          name => [ { family => $secret{family},
                      given => [ $secret{given} ] } ],
          birthDate => $secret{birthDate} }) ],
    [ '$RevisePatient (a write that answers with the client)',
      POST => 'Patient/$RevisePatient',
      body => bc_body(patient => { %{ client(%secret, phn => $phn,
                                             label => 'R') },
          identifier => [ { system => PHN_SYS, value => $phn },
                          { use => 'official',
                            system => sprintf(SRI_SYS, 'fha-mt'),
                            value => "PR$tok" } ],
          extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/'
                               . 'StructureDefinition/bc-business-period-'
                               . 'extension',
                           valuePeriod => { start => '2024-01-01' } } ] }) ],
);
die "paths" unless @paths == $PATHS;

for my $c (@callers) {
    my ($cname, %c) = @$c;
    my %h = (UserId => 'tester@privacy');
    $h{module} = $c{module} if $c{module};
    $h{cert} = $c{cert} if $c{cert};
    $h{Authorization} = 'Bearer ' . token(@{ $c{token} }) if $c{token};
    for my $p (@paths) {
        my ($pname, $method, $path, %o) = @$p;
        my %hh = (%h, ($o{bc} ? (Accept => BC_ACCEPT) : ()));
        my $r = fhir_request($method, "$c{base}/$path", $o{body}, %hh);
        my $body = $r->content;
        my $ok = $r->code == 200 || $r->code == 201;
        if ($c{priv}) {
            ok($ok && index($body, $secret{family}) >= 0
               && index($body, $secret{street}) >= 0,
               "$cname, $pname: " . $r->code . ', the restricted client '
               . 'unmasked');
            ok(index($body, 'bc-sourceId-extension') >= 0,
               "$cname, $pname: bc-sourceId-extension shown");
            next;
        }
        # Values the caller itself put in its query may come back (a
        # Bundle's self link); everything else must not.
        my @found = grep { index($body, $secret{$_}) >= 0
                           && index($path, $secret{$_}) < 0 }
                    qw(given street postal phone birthDate);
        # The family name is the search criterion of the search forms and
        # the open client's; look for it only next to the restricted id.
        push @found, 'family' if $path !~ /family=/
                                 && index($body, $secret{family}) >= 0;
        ok($ok && !@found && index($body, '"masked"') >= 0,
           "$cname, $pname: " . $r->code . ', masked, none of its values'
           . (@found ? " (found: @found)" : ''));
        ok(index($body, 'bc-sourceId-extension') < 0,
           "$cname, $pname: no bc-sourceId-extension");
        diag(substr($body, 0, 800)) unless $ok;
    }
    # The open client: its values for everyone, its provenance only for
    # privileged callers.
    for my $p ([ 'read', GET => "Patient/$oid" ],
               [ 'search', GET => "Patient?given=Opengiv$tok" ],
               [ '$GetDemographics', POST => 'Patient/$GetDemographics',
                 body => bc_body(patient => { resourceType => 'Patient',
                     identifier => [ { system => PHN_SYS,
                                       value => $ophn } ] }) ]) {
        my ($pname, $method, $path, %o) = @$p;
        my $r = fhir_request($method, "$c{base}/$path", $o{body}, %h);
        my $body = $r->content;
        ok($r->code == 200 && index($body, "Opengiv$tok") >= 0
           && index($body, '2505550111') >= 0
           && index($body, '"masked"') < 0
           && (index($body, 'bc-sourceId-extension') >= 0) == $c{priv},
           "$cname, $pname of an open client: its values, bc-sourceId-"
           . 'extension ' . ($c{priv} ? 'shown' : 'removed'));
    }
}

$res = fhir_get("/fhir-secure/Patient/$id", module => 'mod_ssl',
               cert => 'client_admin');
is($res->header('Cache-Control'), 'no-store',
   'a response that shows a restricted client unmasked: Cache-Control '
   . 'no-store');

# The open client is not masked for anyone.
$res = fhir_get("/fhir/Patient/$oid");
ok(index($res->content, "Opengiv$tok") >= 0
   && index($res->content, '"masked"') < 0,
   'an open client: its values, nothing masked');

# The audit trail: privileged responses that showed the restricted client.
sub audit_ops {
    my $like = shift;
    for (1 .. 50) {
        my $n = db_row('SELECT COUNT(*) AS n FROM cr_audit WHERE operation '
                       . 'LIKE ?', $like)->{n};
        return $n if $n;
        select(undef, undef, undef, 0.1);
    }
    return 0;
}
ok(audit_ops("read+unmasked=$id") >= 1,
   'audit: a privileged read of the restricted client is recorded as '
   . 'read+unmasked=<id>');
ok(audit_ops("\$GetDemographics+unmasked=$id") >= 1,
   'audit: so is a privileged $GetDemographics');
is(db_row('SELECT COUNT(*) AS n FROM cr_audit WHERE operation LIKE ? AND '
          . 'org_id = ?', "%unmasked=$id%", 'VIHA')->{n}, 0,
   'audit: nothing is recorded as unmasked for a caller that is not '
   . 'privileged');
my $ae = json_of(fhir_get("/fhir-secure/AuditEvent?patient=$id&_count=50",
                          module => 'mod_ssl', cert => 'client_admin'));
my @un = grep { my $ev = $_->{resource};
                grep { ($_->{url} // '') =~ /cr-audit-unmasked$/
                       && index($_->{valueString} // '', $id) >= 0 }
                     @{ $ev->{extension} || [] } } @{ $ae->{entry} || [] };
ok(@un && !grep({ ($_->{resource}{subtype}[0]{code} // '') =~ /\+/ } @un),
   'AuditEvent: those records carry the ids in cr-audit-unmasked, the '
   . 'subtype is the operation');

# Asynchronous results delivered to the sender's callback (CBTEST, the
# test receiver t/cgi/cb.cgi) go through the same policy: the job keeps no
# privilege.
my $mid = "priv-async-$tok";
my $afam = "Asyncpriv$tok";
$res = fhir_post('/fhir/Patient/$AddPatient.Async', bc_request(
    params => [ { name => 'messageId', valueString => $mid },
                { name => 'sender', valueIdentifier => {
                    system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
                    value => 'CBTEST' } } ],
    patient => { resourceType => 'Patient',
        meta => { security => [ { system => $CONF, code => 'R' } ] },
        extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/'
                             . 'StructureDefinition/bc-business-period-'
                             . 'extension',
                         valuePeriod => { start => '2024-01-01' } } ],
        identifier => [ { use => 'official',
                          system => sprintf(SRI_SYS, 'fha-mt'),
                          value => "PA$tok" } ],
        name => [ { use => 'official', family => $afam,
                    given => ['Asha'] } ],
        gender => 'female', birthDate => '1979-09-19',
        address => [ { type => 'physical', line => ['3 Quiet Lane'],
                       city => 'Surrey', state => 'BC',
                       country => 'CA' } ] }),
    UserId => 'tester@privacy');
is($res->code, 202, '$AddPatient.Async of a restricted client: 202');
my $cb;
for (1 .. 200) {
    for my $f (glob(Apache::Test::vars('t_dir') . '/var/callbacks/*.txt')) {
        open my $fh, '<', $f or next;
        my $text = do { local $/; <$fh> };
        close $fh;
        $cb = $text if index($text, qq{"$mid"}) >= 0;
    }
    last if $cb;
    select(undef, undef, undef, 0.1);
}
ok($cb && index($cb, '"masked"') >= 0 && index($cb, $afam) < 0
   && index($cb, 'Quiet Lane') < 0,
   'the callback carries the client masked, none of its values');
