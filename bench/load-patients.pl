#!/usr/bin/perl
# bench/load-patients.pl: POST synthetic Patients to a Client Registry and
# write the ids it assigned, one a line.
#
#   load-patients.pl BASE_URL COUNT IDS_FILE [WORKERS]
#
# Patient number i is generated from its own seed (BENCH_SEED + i), so the
# same COUNT gives the same data whatever the number of workers.  WORKERS
# processes (default 1) each keep one keep-alive connection (TCP_NODELAY) and take every
# WORKERS-th patient.  Prints the load rate; exits non-zero on any non-201.
use strict;
use warnings;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);

my ($base, $count, $ids_file, $workers) = @ARGV;
die "usage: $0 BASE_URL COUNT IDS_FILE [WORKERS]\n"
    unless $base && $count && $ids_file;
$workers ||= 1;
my $seed = $ENV{BENCH_SEED} // 20240601;
# The whole load is bounded too (seconds).
my $limit = $ENV{BENCH_LOAD_TIMEOUT} // 900;
my $t0 = time();

my @female = qw(Olivia Emma Charlotte Amelia Sophia Ava Chloe Emily Harper
    Abigail Isla Hannah Grace Lily Zoe Mia Ella Avery Madison Sarah Jessica
    Jennifer Linda Patricia Mary Susan Karen Nancy Margaret Dorothy Helen
    Mei Ying Priya Simran Harpreet Fatima Aisha Yuna Jiwoo Anh Linh Maria
    Camille Chantal Aiyana);
my @male = qw(Liam Noah Oliver William Benjamin Lucas Ethan Jack Leo Logan
    James Henry Owen Jacob Daniel Matthew David Robert John Michael Richard
    Thomas Charles Joseph Kevin Brian Gordon Donald Kenneth Wei Jun Hao
    Arjun Gurpreet Harjit Rajesh Omar Ali Minho Jihoon Minh Tuan Jose
    Mathieu Etienne Dakota);
my @family = qw(Smith Brown Tremblay Martin Roy Wilson MacDonald Gagnon
    Johnson Taylor Campbell Anderson Leblanc Lee Thompson White Williams
    Jones Clark Young Wong Chen Li Liu Wang Zhang Nguyen Tran Le Pham Singh
    Gill Sandhu Dhaliwal Sidhu Grewal Patel Shah Kim Park Choi Garcia
    Rodriguez Hernandez Lopez Gonzalez Fraser Stewart Murray Reid Scott
    Robertson Thomson Morrison Paul Jack Joe August Louie Harry);
my @streets = ('Main St', 'Douglas St', 'Fort St', 'Granville St',
    'Kingsway', 'Broadway', 'Hastings St', 'Yates St', 'Cook St',
    'Oak Bay Ave', 'Shelbourne St', 'Quadra St', 'Bernard Ave',
    'Columbia St', 'Victoria St', 'Lonsdale Ave', 'King George Blvd',
    '152 St', 'No. 3 Rd', 'Commercial Dr');
my @cities = (['Victoria', 'V8W'], ['Vancouver', 'V6B'], ['Surrey', 'V3T'],
    ['Burnaby', 'V5H'], ['Richmond', 'V6X'], ['Kelowna', 'V1Y'],
    ['Kamloops', 'V2C'], ['Nanaimo', 'V9R'], ['Prince George', 'V2L'],
    ['Abbotsford', 'V2S'], ['Saanich', 'V8X'], ['Chilliwack', 'V2P'],
    ['Nelson', 'V1L'], ['Terrace', 'V8G'], ['Fort St. John', 'V1J']);
my @area = qw(250 604 778 236 672);

sub pick { $_[int(rand(@_))] }

sub json_str
{
    my ($s) = @_;
    $s =~ s/(["\\])/\\$1/g;
    return qq("$s");
}

# One patient as FHIR R4 JSON, deterministic for (seed, i).
sub patient
{
    my ($i) = @_;
    srand($seed + $i);
    my $gender = rand() < 0.5 ? 'female' : 'male';
    my @given = (pick($gender eq 'female' ? @female : @male));
    push @given, pick($gender eq 'female' ? @female : @male)
        if rand() < 0.4;
    my $family = pick(@family);
    my $y = 1930 + int(rand(94));
    my $birth = sprintf('%04d-%02d-%02d', $y, 1 + int(rand(12)),
                        1 + int(rand(28)));
    my $phone = sprintf('%s-%03d-%04d', pick(@area), 200 + int(rand(800)),
                        int(rand(10000)));
    my $c = pick(@cities);
    my @L = ('A' .. 'C', 'E', 'G', 'H', 'J' .. 'N', 'P', 'R', 'S' .. 'T',
             'V' .. 'Z');
    my $postal = sprintf('%s %d%s%d', $c->[1], int(rand(10)), pick(@L),
                         int(rand(10)));
    my $line = sprintf('%d %s', 1 + int(rand(9999)), pick(@streets));
    my @telecom = (sprintf('{"system":"phone","value":%s,"use":"%s"}',
                           json_str($phone), rand() < 0.6 ? 'home'
                                                           : 'mobile'));
    if (rand() < 0.3) {
        push @telecom, sprintf('{"system":"email","value":%s}',
                               json_str(lc("$given[0].$family$i")
                                        . '@example.ca'));
    }
    return sprintf('{"resourceType":"Patient","active":true,'
        . '"name":[{"use":"official","family":%s,"given":[%s]}],'
        . '"telecom":[%s],"gender":"%s","birthDate":"%s",'
        . '"address":[{"use":"home","line":[%s],"city":%s,"state":"BC",'
        . '"postalCode":%s,"country":"CA"}]}',
        json_str($family), join(',', map { json_str($_) } @given),
        join(',', @telecom), $gender, $birth, json_str($line),
        json_str($c->[0]), json_str($postal));
}

# A minimal keep-alive HTTP/1.1 client: one write per request and
# TCP_NODELAY.  (HTTP::Tiny writes the headers and the body separately,
# and Nagle plus delayed ACK then add about 40 ms to every POST.)
sub connect_to
{
    my ($host, $port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
                                  Proto => 'tcp', Timeout => 10)
        or die "load-patients: connect $host:$port: $!\n";
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1) or die "TCP_NODELAY: $!\n";
    binmode($s);
    return $s;
}

# post(SOCKET, HOST, PATH, BODY) -> (status, location, body, close)
sub post
{
    my ($s, $host, $path, $body) = @_;
    my $req = "POST $path HTTP/1.1\r\nHost: $host\r\n"
        . "Content-Type: application/fhir+json\r\n"
        . "Accept: application/fhir+json\r\nPrefer: return=minimal\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n" . $body;
    my $off = 0;
    while ($off < length($req)) {
        my $n = syswrite($s, $req, length($req) - $off, $off);
        return (599, '', "write: $!") unless $n;
        $off += $n;
    }
    my $buf = '';
    while (index($buf, "\r\n\r\n") < 0) {
        my $n = sysread($s, $buf, 65536, length($buf));
        return (599, '', 'connection closed') unless $n;
    }
    my $end = index($buf, "\r\n\r\n");
    my $head = substr($buf, 0, $end);
    my $rest = substr($buf, $end + 4);
    my ($status) = $head =~ m{^HTTP/1\.\d (\d{3})};
    my ($len) = $head =~ m{\r\ncontent-length:\s*(\d+)}i;
    my ($loc) = $head =~ m{\r\nlocation:\s*(\S+)}i;
    my $close = $head =~ m{\r\nconnection:\s*close}i ? 1 : 0;
    $len //= 0;
    while (length($rest) < $len) {
        my $n = sysread($s, $rest, $len - length($rest), length($rest));
        return (599, '', 'connection closed') unless $n;
    }
    return ($status // 599, $loc // '', $rest, $close);
}

sub worker
{
    my ($w) = @_;
    my ($host, $port, $prefix) = $base =~ m{^http://([^/:]+):(\d+)(/.*)?$}
        or die "load-patients: BASE_URL must be http://HOST:PORT/...\n";
    my $path = ($prefix // '') . '/Patient';
    my $s = connect_to($host, $port);
    open(my $out, '>', "$ids_file.$w") or die "$ids_file.$w: $!\n";
    # Bounded: a create that takes more than 60 s, or a load that takes
    # more than BENCH_LOAD_TIMEOUT, ends the load.
    local $SIG{ALRM} = sub { die "load-patients: no answer in time\n" };
    for (my $i = $w; $i < $count; $i += $workers) {
        my $left = int($t0 + $limit - time());
        die "load-patients: over BENCH_LOAD_TIMEOUT ($limit s)\n"
            if $left <= 0;
        alarm($left < 60 ? $left : 60);
        my ($status, $loc, $body, $close) = post($s, "$host:$port", $path,
                                                 patient($i));
        # httpd closes a keep-alive connection after MaxKeepAliveRequests.
        $s = connect_to($host, $port) if $close;
        if ($status != 201 || $loc !~ m{/Patient/([^/]+)/_history/}) {
            print STDERR "load-patients: patient $i: $status "
                . substr($body, 0, 400) . "\n";
            exit 1;
        }
        print $out "$1\n";
    }
    alarm(0);
    close($out) or die "$ids_file.$w: $!\n";
    exit 0;
}

my @pids;
for my $w (0 .. $workers - 1) {
    my $pid = fork();
    die "fork: $!\n" unless defined $pid;
    worker($w) if $pid == 0;
    push @pids, $pid;
}
my $failed = 0;
for my $pid (@pids) {
    waitpid($pid, 0);
    $failed++ if $? != 0;
}
my $dt = time() - $t0;
exit 1 if $failed;

open(my $all, '>', $ids_file) or die "$ids_file: $!\n";
my $n = 0;
for my $w (0 .. $workers - 1) {
    open(my $in, '<', "$ids_file.$w") or die "$ids_file.$w: $!\n";
    while (<$in>) { print $all $_; $n++; }
    close($in);
    unlink("$ids_file.$w");
}
close($all) or die "$ids_file: $!\n";
printf "load: %d patients in %.1f s = %.0f patients/s (%d workers)\n",
    $n, $dt, $n / $dt, $workers;
