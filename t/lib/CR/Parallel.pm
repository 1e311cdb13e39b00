package CR::Parallel;
# Concurrent clients for the concurrency tests: run_clients(N, GO, WORK)
# forks N children that start together at time GO (to maximise overlap),
# each runs WORK->(its number 1..N) and reports the lines it returns; the
# parent waits for all and returns every line, in client order.
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use Apache::TestRequest ();
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);

our @EXPORT = qw(run_clients);

my $dir = tempdir(CLEANUP => 1);

sub run_clients {
    my ($n, $go, $work) = @_;
    my @pids;
    for my $c (1 .. $n) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            Apache::TestRequest::user_agent(reset => 1);
            sleep(0.005) while time < $go;
            open my $out, '>', "$dir/$c.out" or die $!;
            print $out $_, "\n" for $work->($c);
            close $out;
            exit 0;
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    my @lines;
    for my $c (1 .. $n) {
        open my $in, '<', "$dir/$c.out" or next;
        push @lines, map { chomp; $_ } <$in>;
        unlink "$dir/$c.out";
    }
    return @lines;
}

1;
