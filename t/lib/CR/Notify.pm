package CR::Notify;
# Helpers of the notification tests (t/api/notify.t, t/api/notify_writes.t,
# t/api/notify_events.t, t/persistence/notify_restart.t): a partner's
# subscription through the API, subscriptions and events put straight
# into the database (cr_subscription, cr_outbox, cr_delivery of
# schema/005_distribution.sql, with the fan-out docs/notifications.md
# describes), the partner switches of t/cgi/partner.cgi and what it
# received.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use JSON::PP ();
use Time::HiRes ();
use CR::Test;
use CR::BC ();

our @EXPORT = qw(make_subscription add_event partner_set partner_received
                 delivery wait_for notify_uuid quiet_other_subscriptions
                 subscribe_partner);

my $JSON = JSON::PP->new->utf8->canonical;

sub now_instant {
    my @t = gmtime(time);
    return sprintf('%04d-%02d-%02dT%02d:%02d:%02d.000Z', $t[5] + 1900,
                   $t[4] + 1, @t[3, 2, 1, 0]);
}
sub notify_uuid {
    return sprintf('%08x-%04x-4%03x-8%03x-%012x', int(rand(2**32)),
                   int(rand(2**16)), int(rand(2**12)), int(rand(2**12)),
                   int(rand(2**48)));
}

# Turn off every subscription made so far (by earlier test files: their
# deliveries to unreachable or CGI endpoints would compete with this
# file's for the worker), so that timings here depend on this file only.
sub quiet_other_subscriptions {
    db_dbh()->do("UPDATE cr_subscription SET status = 'off' "
                 . "WHERE status = 'active'");
}

# Partner $name (t/cgi/partner.cgi) subscribes to $codes ("A,B") through
# POST [base]/Subscription, as a partner does; its id, or undef unless 201.
sub subscribe_partner {
    my ($name, $codes) = @_;
    my $s = CR::BC::ig_fixture(
        'Subscription-SampleCompositeSubscriptionRequest.json');
    $s->{channel}{payload} = 'application/fhir+json';
    $s->{channel}{endpoint} = 'http://' . Apache::Test::vars('servername')
                              . ':' . Apache::Test::vars('port')
                              . "/partner/$name";
    $s->{_criteria}{extension}[0]{valueString} = "eventCode=$codes";
    my $res = fhir_post('/fhir/Subscription', $s);
    return $res->code == 201 ? json_of($res)->{id} : undef;
}

# An active subscription of partner $name (t/cgi/partner.cgi) to @codes.
sub make_subscription {
    my ($name, @codes) = @_;
    my $id = notify_uuid();
    my $now = now_instant();
    my $endpoint = 'http://' . Apache::Test::vars('servername') . ':'
                   . Apache::Test::vars('port') . "/partner/$name";
    my $dbh = db_dbh();
    $dbh->do('INSERT INTO cr_subscription (id, owner, status, event_codes, '
             . 'endpoint, payload, created, updated, version_id, resource) '
             . "VALUES (?, ?, 'active', ?, ?, 'full-resource', ?, ?, 1, ?)",
             undef, $id, "owner-$name", join(' ', @codes), $endpoint, $now,
             $now, '{"resourceType":"Subscription"}');
    $dbh->do('INSERT INTO cr_subscription_event (subscription_id, '
             . 'event_code) VALUES (?, ?)', undef, $id, $_) for @codes;
    return $id;
}

# Event $code of patient $pid at version $ver, fanned out to the active
# subscriptions of its code; the delivery ids (messageIds) by
# subscription.
sub add_event {
    my ($code, $pid, $ver) = @_;
    my $dbh = db_dbh();
    my $now = now_instant();
    my %ids;
    $dbh->begin_work;
    # The writer's numbering: MAX + 1 on SQLite, the outbox sequence on
    # PostgreSQL (migration 013), which the registry's writers draw from.
    my ($seq) = $dbh->selectrow_array($ENV{CR_TEST_PG}
        ? "SELECT nextval('cr_outbox_counter_n_seq')"
        : 'SELECT COALESCE(MAX(seq), 0) + 1 FROM cr_outbox');
    $dbh->do('INSERT INTO cr_outbox (seq, event_code, patient_id, '
             . 'patient_version, operation, message_id, created) VALUES '
             . "(?, ?, ?, ?, 'test', NULL, ?)", undef, $seq, $code, $pid,
             $ver, $now);
    my $subs = $dbh->selectcol_arrayref(
        'SELECT s.id FROM cr_subscription s JOIN cr_subscription_event e '
        . "ON e.subscription_id = s.id WHERE s.status = 'active' AND "
        . 'e.event_code = ?', undef, $code);
    for my $s (@$subs) {
        my $id = notify_uuid();
        $dbh->do('INSERT INTO cr_delivery (id, subscription_id, event_seq, '
                 . 'patient_id, state, attempts, next_attempt_at, created, '
                 . "updated) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?)",
                 undef, $id, $s, $seq, $pid, $now, $now, $now);
        $ids{$s} = $id;
    }
    $dbh->commit;
    return \%ids;
}

# Switch $what (down, slow, token) of partner $name on or off.
sub partner_set {
    my ($name, $what, $on) = @_;
    local $_;   # t_dir may read the configuration, which sets $_
    my $f = t_dir() . "/var/partner-$name-$what";
    if ($on) {
        open my $fh, '>', $f or die "$f: $!";
        close $fh;
    }
    else {
        unlink $f;
    }
}

# What partner $name received, in order of receipt: a list of
# { path, auth, time, text, body (decoded), mid, event }.
sub partner_received {
    my $name = shift;
    my @r;
    for my $f (sort glob(t_dir() . "/var/partner/$name/*.txt")) {
        open my $fh, '<', $f or next;
        my ($path, $auth, $t) = map { my $l = <$fh>; chomp $l; $l } 1 .. 3;
        my $text = do { local $/; <$fh> };
        close $fh;
        my $b = eval { $JSON->decode($text) } || {};
        my ($par) = grep { ($_->{resource}{resourceType} // '') eq
                           'Parameters' } @{ $b->{entry} || [] };
        my %p = map { $_->{name} => $_ } @{ $par->{resource}{parameter} || [] };
        push @r, { path => $path, auth => $auth, time => $t, text => $text,
                   body => $b, mid => $p{messageId}{valueString},
                   event => $p{eventType}{valueCodeableConcept}{coding}[0]{code} };
    }
    @r = sort { $a->{time} <=> $b->{time} } @r;
    return wantarray ? @r : scalar(@r);
}

sub delivery { db_row('SELECT * FROM cr_delivery WHERE id = ?', $_[0]) }

# Wait up to $secs for $cond->() to be true; its last value.
sub wait_for {
    my ($cond, $secs) = @_;
    my $v;
    for (1 .. $secs * 10) {
        return $v if $v = $cond->();
        Time::HiRes::sleep(0.1);
    }
    return $v;
}

1;
