# PHN allocation skips PHNs already held, whatever identifier system they
# were supplied under (CR-PHN-008: assigned PHNs are never reused), and
# keeps going past them.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 6;

sub phn_of_body {
    my $b = shift;
    my @d = split //, sprintf('9%08d', $b);
    my @w = (2, 4, 8, 5, 10, 9, 7, 3);
    my $s = 0;
    $s += ($d[$_ + 1] * $w[$_]) % 11 for 0 .. 7;
    my $r = $s % 11;
    return undef if $r < 2;
    return join('', @d) . (11 - $r);
}

# The next PHN the allocator will try: on PostgreSQL the next value of the
# sequence of migration 010 when it is above the allocator row's floor
# (store/cr_store_pg.c).
my $body = db_row('SELECT next_body FROM cr_phn_allocator WHERE id = 1')->{next_body};
if ($ENV{CR_TEST_PG}) {
    my $seq = db_row('SELECT CASE WHEN is_called THEN last_value + 1 '
                     . 'ELSE last_value END AS n FROM cr_phn_counter_n_seq')->{n};
    $body = $seq if $seq > $body;
}
my $next;
for (my $b = $body; !defined $next; $b++) {
    $next = phn_of_body($b);
}
ok(valid_phn($next), "the next PHN to assign is $next");

# Someone already holds it, under the G1-G3 PHN system.
my ($res) = create_patient(identifier => [ {
    system => 'http://hlth.gov.bc.ca/fhir/client/id-issuer/BC',
    value => $next } ]);
is($res->code, 201, 'a client holding that PHN under the legacy system');
is(phn_of_legacy(json_of($res)), $next, 'keeps it');

($res) = create_patient();
is($res->code, 201, 'the next create succeeds');
my $assigned = phn_of(json_of($res));
ok(valid_phn($assigned), "and gets a valid PHN ($assigned)");
isnt($assigned, $next, 'CR-PHN-008: not the one already held');

sub phn_of_legacy {
    my $p = shift;
    for my $id (@{ $p->{identifier} || [] }) {
        return $id->{value} if $id->{system} =~ m{/id-issuer/BC$};
    }
    return undef;
}
