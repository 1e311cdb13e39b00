# Concurrent writers: 16 parallel clients creating patients never get the
# same PHN (CR-PHN-010), all creates are readable afterwards, and
# concurrent updates of one patient never lose an update (If-Match).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::Parallel;
use Time::HiRes qw(time);

plan tests => 14;

my $CLIENTS = 16;
my $PER = 6;
my $family = unique_name('Concurrent');

my @results = run_clients($CLIENTS, time + 0.5, sub {
    my $c = shift;
    my @r;
    for my $i (1 .. $PER) {
        my $res = fhir_post('/fhir/Patient',
                            sample_patient(family => $family, given => "Client" . chr(96 + $c) . chr(96 + $i)));
        my $p = json_of($res) || {};
        push @r, join ' ', $res->code, $p->{id} // '-', phn_of($p) // '-';
    }
    return @r;
});

is(scalar @results, $CLIENTS * $PER, 'every client reported every create');
my @created = grep { /^201 / } @results;
is(scalar @created, $CLIENTS * $PER, 'CR-PHN-010: every concurrent create got 201')
    or diag join "\n", grep { !/^201 / } @results;
my (%ids, %phns);
for (@created) {
    my (undef, $id, $phn) = split ' ';
    $ids{$id}++;
    $phns{$phn}++;
}
is(scalar keys %ids, $CLIENTS * $PER, 'all ids distinct');
is(scalar keys %phns, $CLIENTS * $PER, 'CR-PHN-010: all PHNs distinct');
is(scalar(grep { !valid_phn($_) } keys %phns), 0, 'CR-PHN-007: all PHNs valid');
my $readable = 0;
for my $id (keys %ids) {
    $readable++ if fhir_get("/fhir/Patient/$id")->code == 200;
}
is($readable, $CLIENTS * $PER, 'all created patients are readable');
is(db_row("SELECT COUNT(DISTINCT patient_id) AS n FROM cr_search_index WHERE kind = 'family' AND value = ?",
          lc $family)->{n}, $CLIENTS * $PER, 'stored: one row set per create');
is(db_row('SELECT COUNT(*) AS n FROM (SELECT phn FROM cr_patient WHERE phn IS NOT NULL GROUP BY phn HAVING COUNT(*) > 1) AS d')->{n},
   0, 'stored: no duplicate PHN anywhere');

# --- concurrent updates with If-Match: exactly one wins ---------------------
my ($res, $p) = create_patient(given => 'Racer');
my $id = $p->{id};
delete $p->{meta};
@results = run_clients($CLIENTS, time + 0.5, sub {
    my $c = shift;
    my $u = { %$p, gender => ($c % 2 ? 'male' : 'other') };
    return fhir_put("/fhir/Patient/$id", $u, 'If-Match' => 'W/"1"')->code;
});
is(scalar(grep { $_ == 200 } @results), 1, 'If-Match W/"1" race: exactly one 200');
is(scalar(grep { $_ == 412 } @results), $CLIENTS - 1, 'If-Match race: the rest 412');
is(db_row('SELECT version_id FROM cr_patient WHERE id = ?', $id)->{version_id},
   2, 'If-Match race: one new version');

# --- concurrent updates without If-Match: serialized, none lost -------------
@results = run_clients($CLIENTS, time + 0.5, sub {
    my $c = shift;
    return fhir_put("/fhir/Patient/$id", { %$p, gender => 'unknown' })->code;
});
is(scalar(grep { $_ == 200 } @results), $CLIENTS, 'unconditional updates: all 200');
is(db_row('SELECT version_id FROM cr_patient WHERE id = ?', $id)->{version_id},
   2 + $CLIENTS, 'unconditional updates: every one made a version');
is(db_row('SELECT COUNT(*) AS n FROM cr_patient_version WHERE patient_id = ?', $id)->{n},
   2 + $CLIENTS, 'unconditional updates: the history holds them all');
