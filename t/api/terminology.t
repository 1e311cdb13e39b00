# CR-TERM-001: every code the module emits in eventType,
# bc-validation-status-extension, bc-merge-status-extension and
# bc-identifier-status-extension exists in the IG's code system for it
# (t/data/ig/CodeSystem-*.json, verbatim copies; see t/data/ig/MANIFEST).
# The codes are gathered twice: from the code tables and literals of the
# source (fhir/cr_events.c's event table, every literal valueCode set
# next to one of those extension urls), and from real traffic: the
# responses of a revise, a merge, GetDemographics with history and
# FindCandidates, and the notifications a subscription to every event
# received for those writes.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use File::Find ();
use CR::Test;
use CR::BC;
use CR::Notify;

plan tests => 14;

my $JSON = JSON::PP->new->canonical;
my $SD = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/';
my %EXT = (validation => "${SD}bc-validation-status-extension",
           merge => "${SD}bc-merge-status-extension",
           identifier => "${SD}bc-identifier-status-extension");
my %CSFILE = (
    validation => 'CodeSystem-bc-client-registry-address-validation-code-'
                  . 'system.json',
    merge => 'CodeSystem-bc-client-registry-merge-status-code-system.json',
    identifier => 'CodeSystem-bc-identifier-status-code-system.json',
    event => 'CodeSystem-bc-client-registry-patient-change-notification-'
             . 'events.json');
my (%cs, %url);
for my $k (keys %CSFILE) {
    my $c = ig_fixture($CSFILE{$k});
    $cs{$k} = { map { $_->{code} => 1 } @{ $c->{concept} || [] } };
    $url{$k} = $c->{url};
}

# The codes of @$got not in code system $k ('' when all are).
sub outside {
    my ($k, $got) = @_;
    return join ' ', grep { !$cs{$k}{$_} } sort keys %$got;
}

# ---- the source -------------------------------------------------------------
my $src = t_dir() . '/../mod_clientregistry';
my (%lit, %ev);
my %macro = (EXT_VALIDATION => 'validation',
             CR_EXT_IDENTIFIER_STATUS => 'identifier',
             CR_EXT_MERGE_STATUS => 'merge');
File::Find::find(sub {
    return unless /\.[ch]$/;
    open my $fh, '<', $_ or die "$File::Find::name: $!";
    my $t = do { local $/; <$fh> };
    close $fh;
    # ext_code(EXT, "code") and url EXT followed by a literal valueCode.
    while ($t =~ /ext_code\((\w+),\s*"([^"]+)"\)/g) {
        $lit{ $macro{$1} }{$2} = 1 if $macro{$1};
    }
    while ($t =~ /"url",\s*(\w+)\);\s*cr_json_set_string\(\w+,\s*"valueCode",\s*"([^"]+)"\)/g) {
        $lit{ $macro{$1} }{$2} = 1 if $macro{$1};
    }
    if ($_ eq 'cr_events.c'
        && $t =~ /codes\[CR_EVENTS_COUNT\]\[2\]\s*=\s*\{(.*?)\n\};/s) {
        my $tab = $1;
        $ev{$1} = 1 while $tab =~ /\{\s*"([^"]+)",/g;
    }
}, $src);
is(scalar(keys %ev), 10, 'CR-TERM-001: the event table of fhir/cr_events.c '
   . 'read (10 codes)');
is(outside('event', \%ev), '', 'CR-TERM-001: every event code of the table '
   . 'is in the change-notification events code system');
ok($lit{validation}{unknown} && $lit{identifier}{active},
   'CR-TERM-001: the literal extension codes of the source found');
is(join(' ', map { my $k = $_; map { "$k:$_" } sort grep { !$cs{$k}{$_} }
                   keys %{ $lit{$k} || {} } } sort keys %lit), '',
   'CR-TERM-001: every literal validation, identifier and merge status code '
   . 'of the source is in its code system');

# ---- real traffic -----------------------------------------------------------
quiet_other_subscriptions();
my $tok = unique_token();
my $partner = "term$$";
partner_set($partner, $_, 0) for qw(down slow token);
my $sub = make_subscription($partner, sort keys %{ $cs{event} });
my $fha = sprintf(SRI_SYS, 'fha-term');
my %U = (UserId => 'ig.samples@cgi.com');

my %seen;    # kind => { code => 1 }
# Every valueCode of the three extensions anywhere in $doc.
sub collect {
    my $d = shift;
    if (ref $d eq 'HASH') {
        for my $k (keys %EXT) {
            $seen{$k}{ $d->{valueCode} } = 1
                if ($d->{url} // '') eq $EXT{$k} && defined $d->{valueCode};
        }
        collect($_) for values %$d;
    }
    elsif (ref $d eq 'ARRAY') {
        collect($_) for @$d;
    }
}

my ($ida, $pa) = merge_person($fha, "TA$tok", "Termone$tok", 'Ada',
                              '1970-03-03', %U);
my ($idb, $pb) = merge_person($fha, "TB$tok", "Termtwo$tok", 'Bea',
                              '1971-04-04', %U);
my $res = op_post('MergePatient', bc_request(patient => {
    resourceType => 'Patient',
    identifier => [ { use => 'official', system => $fha, value => "TA$tok" } ],
    link => [ { extension => [ { url => $EXT{merge},
                                 valueCode => 'cancelled' } ],
                other => { identifier => { system => $fha,
                                           value => "TB$tok" } },
                type => 'replaces' } ] }), %U);
is($res->code, 200, 'CR-TERM-001: setup: a merge (200)');
collect(json_of($res));
for my $phn ($pa, $pb) {
    $res = op_post('GetDemographics', bc_request(
        params => [ { name => 'messageId', valueString => "term-$tok-$phn" },
                    { name => 'history', valueBoolean => JSON::PP::true } ],
        patient => { resourceType => 'Patient',
                     identifier => [ { system => PHN_SYS, value => $phn } ] }),
        %U);
    is($res->code, 200, "CR-TERM-001: GetDemographics with history: 200");
    collect(json_of($res));
}
$res = op_post('FindCandidates', bc_request(patient => {
    resourceType => 'Patient',
    name => [ { family => "Termone$tok", given => ['Ada'] } ],
    gender => 'male', birthDate => '1970-03-03' }), %U);
is($res->code, 200, 'CR-TERM-001: FindCandidates: 200');
collect(json_of($res));

ok($seen{identifier}{active} && $seen{identifier}{merged}
   && $seen{validation}{unknown},
   'CR-TERM-001: the responses carry identifier statuses active and merged '
   . 'and an address validation status');
is(join(' ', map { my $k = $_; map { "$k:$_" } sort grep { !$cs{$k}{$_} }
                   keys %{ $seen{$k} } } sort keys %seen), '',
   'CR-TERM-001: every extension code of the responses is in its code '
   . 'system');

# The notifications of those writes (the two revises and the merge).
my @n;
wait_for(sub { @n = grep { ($_->{body}{entry} || [])->[1] } 
               partner_received($partner);
               (grep { ($_->{event} // '') eq 'PHNMERGE' } @n) ? 1 : 0 },
         30);
my (%sys, %codes);
for my $n (@n) {
    my ($par) = grep { ($_->{resource}{resourceType} // '') eq 'Parameters' }
                @{ $n->{body}{entry} || [] };
    for my $p (grep { $_->{name} eq 'eventType' }
               @{ $par->{resource}{parameter} || [] }) {
        for my $c (@{ $p->{valueCodeableConcept}{coding} || [] }) {
            $sys{ $c->{system} // '' } = 1;
            $codes{ $c->{code} // '' } = 1;
        }
    }
    collect($n->{body});
}
ok($codes{NEW} && $codes{PHNMERGE}, 'CR-TERM-001: notifications of the '
   . 'writes received (NEW, PHNMERGE)');
is(join(' ', sort keys %sys), $url{event}, 'CR-TERM-001: every eventType '
   . 'coding names the change-notification events code system');
is(outside('event', \%codes), '', 'CR-TERM-001: every eventType code sent '
   . 'is in that code system');
is(join(' ', map { my $k = $_; map { "$k:$_" } sort grep { !$cs{$k}{$_} }
                   keys %{ $seen{$k} } } sort keys %seen), '',
   'CR-TERM-001: every extension code of the notifications is in its code '
   . 'system');
db_dbh()->do("UPDATE cr_subscription SET status = 'off' WHERE id = ?",
             undef, $sub);
