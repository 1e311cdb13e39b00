# GET [base]/Patient?...: the search parameters of cr_search.h, paging,
# lenient handling, and the rejections (unknown parameters, modifiers, bad
# values, too many parameters or candidates, bad %-escapes).
#
# The database is shared with the other test files of a run, so every
# scenario works on patients with a family name of its own and bounds its
# searches with it (or with an identifier, phone or e-mail of its own).
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use URI::Escape qw(uri_escape_utf8);
use CR::Test;

plan tests => 122;

my $PHN_SYS = 'https://fhir.infoway-inforoute.ca/NamingSystem/'
    . 'ca-bc-patient-healthcare-id';
my $FHA_SYS =
    'https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-fha-mt-source-patient-id';
my $BASE = Apache::TestRequest::resolve_url('/fhir');

# --- helpers ----------------------------------------------------------------

# Create a patient from sample_patient(%o), edited by $o{edit}; returns the
# stored resource.  A failed create is a broken test set-up: die.
sub make {
    my %o = @_;
    my $edit = delete $o{edit};
    my $p = sample_patient(%o);
    $edit->($p) if $edit;
    my $res = fhir_post('/fhir/Patient', $p);
    my $r = json_of($res);
    die 'set-up: create failed: ' . $res->as_string
        unless $res->code == 201 && $r && $r->{id};
    return $r;
}

# A query string; ',' and '|' stay literal (they are search syntax).
sub qs {
    my @kv = @_;
    my @p;
    while (@kv) {
        my ($k, $v) = splice @kv, 0, 2;
        push @p, "$k=" . uri_escape_utf8($v, '^A-Za-z0-9\-._~,|');
    }
    return join '&', @p;
}

sub search {
    my ($q, %h) = @_;
    my $res = fhir_get("/fhir/Patient?$q", %h);
    return ($res, json_of($res));
}

sub match_ids {
    my $b = shift;
    return [ sort map { $_->{resource}{id} }
             grep { ($_->{search}{mode} // '') eq 'match' }
             @{ ($b && $b->{entry}) || [] } ];
}

sub link_of {
    my ($b, $rel) = @_;
    my ($l) = grep { $_->{relation} eq $rel } @{ ($b && $b->{link}) || [] };
    return $l ? $l->{url} : undef;
}

# One test: 200, a searchset whose total and matches are exactly @$want.
sub found {
    my ($q, $want, $name) = @_;
    my ($res, $b) = search($q);
    is_deeply({ status => $res->code, type => $b && $b->{type},
                total => $b && $b->{total}, ids => match_ids($b) },
              { status => 200, type => 'searchset',
                total => scalar @$want,
                ids => [ sort map { ref $_ ? $_->{id} : $_ } @$want ] },
              $name)
        or diag("query: $q");
}

# One test: the status and the error issues ("code@expression").
sub rejected {
    my ($q, $status, $codes, $name) = @_;
    my ($res) = search($q);
    is_deeply([ $res->code, oo_codes($res) ], [ $status, $codes ], $name)
        or diag("query: $q");
}

# --- _id --------------------------------------------------------------------
my $fid = unique_name();
my $pid = make(family => $fid);
my $pid2 = make(family => $fid);
found(qs(_id => $pid->{id}), [$pid], 'search: _id finds the patient');
found(qs(_id => "$pid->{id},$pid2->{id}"), [$pid, $pid2],
      'search: _id with two values (OR)');
found(qs(_id => '00000000-0000-4000-8000-000000000000'), [],
      'CR-GEN-030: a search without matches is 200 with total 0');

# --- identifier -------------------------------------------------------------
my $fi = unique_name();
my $mrn = 'MRN-' . uc unique_name('X');
my $pi = make(family => $fi,
              identifier => [ { system => $FHA_SYS, value => $mrn } ]);
my $phn = phn_of($pi);
ok(valid_phn($phn), 'set-up: the registry assigned a PHN');
found(qs(identifier => "$PHN_SYS|$phn"), [$pi],
      'search: identifier=<PHN system>|<PHN>');
found(qs(identifier => $phn), [$pi], 'search: identifier=<PHN> (any system)');
found(qs(identifier => "$FHA_SYS|$mrn"), [$pi],
      'search: identifier=<SRI system>|<value> supplied at create');
found(qs(identifier => $mrn), [$pi], 'search: identifier=<SRI value>');
found(qs(identifier => "$FHA_SYS|$phn"), [],
      'search: identifier with the value under another system: none');
found(qs(identifier => lc $mrn), [],
      'search: identifier values are case-sensitive tokens');
found(qs(identifier => "$FHA_SYS|$mrn", family => $fi), [$pi],
      'search: identifier AND family');
{
    found(qs(identifier => "|$mrn"), [],
          'search: identifier=|value matches only identifiers without a '
          . 'system (FHIR token search), and all of ours have one');
}

# --- family (prefix, case and accents) --------------------------------------
my $fp = unique_name('Prefx');
my $pson = make(family => "${fp}son", given => 'Alice');
my $psen = make(family => "${fp}sen", given => 'Bob');
found(qs(family => uc $fp), [$pson, $psen],
      'search: family is a case-insensitive prefix match');
found(qs(family => lc($fp) . 'so'), [$pson],
      'search: family prefix narrows to one');
found(qs(family => "${fp}sonx"), [],
      'search: a family longer than the stored name does not match');
found(qs(family => "${fp}son", given => 'bob'), [],
      'search: family AND given must both hold');

my $tag = lc unique_name('');
my $pzoe = make(family => "Ñúñez$tag", given => 'Zoë');
found(qs(given => 'zoe', family => "nunez$tag"), [$pzoe],
      'search: accents folded in the stored name (given=zoe, family=nunez)');
found(qs(given => 'ZOË', family => "ÑÚÑEZ$tag"), [$pzoe],
      'search: accents and case folded in the search value too');
found(qs(family => 'NUÑEZ' . substr($tag, 0, 4)), [$pzoe],
      'search: accented prefix');
found(qs(family => 'NUÑE', _id => $pzoe->{id}), [$pzoe],
      'search: the first 4 letters, accented and in upper case, match');
found(qs(family => 'nuna', _id => $pzoe->{id}), [],
      'search: 4 other letters do not match');
{
    my ($res, $b) = search(qs(family => 'nuñe'));
    ok($res->code == 200
       && grep({ $_ eq $pzoe->{id} } @{ match_ids($b) }),
       'search: family=nuñe alone (the family index drives) finds her')
        or diag($res->as_string);
}

my $pcruz = make(family => "De la Cruz$tag", given => 'Ana');
found(qs(family => "cruz$tag"), [$pcruz],
      'search: family matches a part of a multi-part family name');
found(qs(family => "de la cruz$tag"), [$pcruz],
      'search: family matches the whole multi-part name');

# --- given and name ---------------------------------------------------------
my $fg = unique_name();
my $gaa = make(family => $fg, edit => sub {
    $_[0]{name}[0]{given} = [ 'Alice', 'Ann' ] });
my $gbob = make(family => $fg, given => 'Bob');
my $gcar = make(family => $fg, given => 'Carol');
found(qs(family => $fg, given => 'alice'), [$gaa], 'search: given');
found(qs(family => $fg, given => 'ann'), [$gaa],
      'search: given matches the second given name');
found("family=$fg&given=alice,bob", [$gaa, $gbob],
      'search: comma-separated values are OR (given=alice,bob)');
found("family=$fg&given=alice&given=ann", [$gaa],
      'search: a repeated parameter is AND (given=alice&given=ann)');
found("family=$fg&given=alice&given=bob", [],
      'search: repeated given that no single patient has: none');
found(qs(name => $fg), [$gaa, $gbob, $gcar],
      'search: name matches the family name');
found(qs(family => $fg, name => 'carol'), [$gcar],
      'search: name matches a given name');
my $gq = 'Quen' . lc unique_name('');
my $pq = make(family => $fg, given => ucfirst $gq);
found(qs(name => $gq), [$pq],
      'search: name alone (the name index drives) finds a given name');
found(qs(given => substr($gq, 0, -1)), [$pq], 'search: given prefix alone');

# --- birthdate --------------------------------------------------------------
my $fb = unique_name();
my $b1 = make(family => $fb, birthDate => '1970-01-15');
my $b2 = make(family => $fb, birthDate => '1980-06-15');
my $b3 = make(family => $fb, birthDate => '1980-06-16');
my $b4 = make(family => $fb, birthDate => '1990-03-01');
my %bd = (
    '1980-06-15'             => [$b2],
    'eq1980-06-15'           => [$b2],
    'eq1980'                 => [$b2, $b3],
    '1980-06'                => [$b2, $b3],
    'lt1980-06-15'           => [$b1],
    'le1980-06-15'           => [$b1, $b2],
    'gt1980-06-15'           => [$b3, $b4],
    'ge1980-06-16'           => [$b3, $b4],
    'sa1980'                 => [$b4],
    'eb1980'                 => [$b1],
    'ne1980-06-15'           => [$b1, $b3, $b4],
    'ap1980-06-15'           => [$b2, $b3],
    '1970-01-15,1990-03-01'  => [$b1, $b4],
);
for my $v (sort keys %bd) {
    found("family=$fb&birthdate=$v", $bd{$v}, "search: birthdate=$v");
}
found("family=$fb&birthdate=ge1970-01-15&birthdate=le1980-06-15", [$b1, $b2],
      'search: birthdate range as two ANDed values (ge..le)');
{
    # Alone, the birth date index drives the search.
    my $d = sprintf '19%02d-%02d-%02d', 1 + int rand 19, 1 + int rand 12,
                    1 + int rand 28;
    my $bx = make(family => unique_name(), birthDate => $d);
    my ($res, $b) = search("birthdate=$d");
    my @bds = map { $_->{resource}{birthDate} } @{ $b->{entry} || [] };
    ok($res->code == 200 && (grep { $_ eq $bx->{id} } @{ match_ids($b) })
       && !grep({ $_ ne $d } @bds),
       "search: birthdate alone finds the patient and only that date ($d)")
        or diag($res->as_string);
}

# Partial stored birth dates: "1975" is the whole year.
my $fy = unique_name();
my $y1 = make(family => $fy, birthDate => '1975');
my $y2 = make(family => $fy, birthDate => '1975-06-01');
found("family=$fy&birthdate=eq1975", [$y1, $y2],
      'search: stored "1975" matches eq1975');
found("family=$fy&birthdate=eq1975-06-01", [$y2],
      'search: stored "1975" does not match eq1975-06-01');
found("family=$fy&birthdate=1975-06", [$y2],
      'search: stored "1975" does not match 1975-06');
found("family=$fy&birthdate=lt1975-06-01", [$y1],
      'search: stored "1975" matches lt1975-06-01 (its range starts before)');
found("family=$fy&birthdate=gt1975-06-01", [$y1],
      'search: stored "1975" matches gt1975-06-01 (its range ends after)');
{
    found("family=$fy&birthdate=le1975-01-01", [],
          'search: stored "1975" does not match le1975-01-01 (FHIR le: '
          . 'nothing below the value, and the value does not contain 1975)');
    found("family=$fy&birthdate=ge1975-12-31", [],
          'search: stored "1975" does not match ge1975-12-31 (FHIR ge: '
          . 'nothing above the value, and the value does not contain 1975)');
}

# --- gender -----------------------------------------------------------------
my $fgd = unique_name();
my $gf = make(family => $fgd, gender => 'female');
my $gm = make(family => $fgd, gender => 'male');
found(qs(gender => 'male', family => $fgd), [$gm], 'search: gender AND family');
found(qs(gender => 'female,other', family => $fgd), [$gf],
      'search: gender with OR values');
found(qs(gender => 'unknown', family => $fgd), [], 'search: gender no match');

# --- phone, email, postal code ----------------------------------------------
my $ft = unique_name();
my $ph = make(family => $ft, phone => '250-555-0199');
my $ph2 = make(family => $ft, phone => '250-555-0198');
found(qs(phone => '(250) 555-0199', family => $ft), [$ph],
      'search: phone "(250) 555-0199" matches stored "250-555-0199"');
my $uphone = sprintf '604-7%02d-%04d', int rand 100, int rand 10000;
(my $udigits = $uphone) =~ tr/0-9//cd;
my $ph3 = make(family => $ft, phone => $uphone);
found(qs(phone => '(' . substr($udigits, 0, 3) . ') ' . substr($udigits, 3, 3)
          . ' ' . substr($udigits, 6)), [$ph3],
      'search: phone alone (the phone index drives)');
found(qs(phone => "+1 $uphone"), [$ph3],
      'search: phone with the NANP country code');
found(qs(phone => substr($udigits, 0, 6)), [],
      'search: phone is a token, not a prefix');

my $local = 'Alice.' . unique_name('M');
my $pem = make(family => $ft, edit => sub {
    push @{ $_[0]{telecom} }, { system => 'email',
                                value => "$local\@Example.COM" } });
found(qs(email => lc "$local\@example.com"), [$pem],
      'search: email is case-insensitive (stored mixed case)');
found(qs(email => uc "$local\@example.com"), [$pem],
      'search: email in upper case');
found(qs(email => $local), [], 'search: email is a token, not a prefix');

my $fpc = unique_name();
my $pc1 = make(family => $fpc, postal => 'V8W 1A1');
my $pc2 = make(family => $fpc, postal => 'V8W 2B2');
my $pc3 = make(family => $fpc, postal => 'V9A 1A1');
found(qs('address-postalcode' => 'V8W', family => $fpc), [$pc1, $pc2],
      'search: address-postalcode prefix "V8W"');
found(qs('address-postalcode' => 'v8w 1a1', family => $fpc), [$pc1],
      'search: address-postalcode "v8w 1a1" (case and space ignored)');
my @L = ('A' .. 'Z');
my $upostal = sprintf '%s%d%s %d%s%d', $L[rand 26], int rand 10, $L[rand 26],
                      int rand 10, $L[rand 26], int rand 10;
my $pc4 = make(family => $fpc, postal => $upostal);
found(qs('address-postalcode' => lc $upostal), [$pc4],
      'search: address-postalcode alone (the postal index drives)');

# --- paging -----------------------------------------------------------------
my $fpg = unique_name();
my @pg = map { make(family => $fpg)->{id} } 1 .. 7;
my ($res, $b) = search("family=$fpg");
is($res->code, 200, 'paging: 200');
is($b->{total}, 7, 'paging: total 7');
is(scalar @{ $b->{entry} || [] }, 5, 'paging: the default page size is 5');
my @e = @{ $b->{entry} || [] };
is_deeply([ grep { ($_->{fullUrl} // '') ne "$BASE/Patient/$_->{resource}{id}"
                   || ($_->{search}{mode} // '') ne 'match' } @e ], [],
          'paging: each entry has fullUrl <base>/Patient/<id> and search.mode '
          . 'match');
is(link_of($b, 'self'), "$BASE/Patient?family=$fpg&_count=5&_offset=0",
   'paging: self link');
my $next = link_of($b, 'next');
is($next, "$BASE/Patient?family=$fpg&_count=5&_offset=5",
   'paging: next link with _offset=5');
my @first = map { $_->{resource}{id} } @e;
(my $next_path = $next // '/fhir/Patient?none=1') =~ s{^\Q$BASE\E}{/fhir};
$res = fhir_get($next_path);
$b = json_of($res);
is_deeply([ $res->code, $b->{total}, scalar @{ $b->{entry} || [] },
            link_of($b, 'next') ], [ 200, 7, 2, undef ],
          'paging: the next page has the last 2 entries and no next link');
is(link_of($b, 'previous'), "$BASE/Patient?family=$fpg&_count=5&_offset=0",
   'paging: previous link on the second page');
is_deeply([ sort @first, map { $_->{resource}{id} } @{ $b->{entry} || [] } ],
          [ sort @pg ], 'paging: the two pages hold the 7 patients once each');
($res, $b) = search("family=$fpg&_count=2");
is_deeply([ $res->code, $b->{total}, scalar @{ $b->{entry} || [] },
            link_of($b, 'next') ],
          [ 200, 7, 2, "$BASE/Patient?family=$fpg&_count=2&_offset=2" ],
          'paging: _count=2');
($res, $b) = search("family=$fpg&_count=0");
is_deeply([ $res->code, $b->{total}, $b->{entry}, link_of($b, 'next') ],
          [ 200, 7, undef, undef ],
          'paging: _count=0 gives the total and no entries');
($res, $b) = search("family=$fpg&_total=none");
is_deeply([ $res->code, exists $b->{total}, scalar @{ $b->{entry} || [] } ],
          [ 200, '', 5 ], 'paging: _total=none omits the total');
($res, $b) = search("family=$fpg&_count=1000");
is_deeply([ $res->code, scalar @{ $b->{entry} || [] }, link_of($b, 'self') ],
          [ 200, 7, "$BASE/Patient?family=$fpg&_count=50&_offset=0" ],
          'paging: _count above ClientRegistryMaxPageSize is capped at 50');
($res, $b) = search("family=$fpg&_offset=100");
is_deeply([ $res->code, $b->{total}, $b->{entry} ], [ 200, 7, undef ],
          'paging: an offset past the end gives no entries');
rejected("family=$fpg&_count=abc", 400, ['value@_count'],
         'paging: _count not a number: 400 value');
rejected("family=$fpg&_count=-1", 400, ['value@_count'],
         'paging: negative _count: 400 value');
rejected("family=$fpg&_offset=x", 400, ['value@_offset'],
         'paging: _offset not a number: 400 value');
rejected("family=$fpg&_total=maybe", 400, ['value@_total'],
         'paging: bad _total: 400 value');

# --- unknown parameters, modifiers, lenient handling ------------------------
rejected("family=$fpg&foo=bar", 400, ['not-supported'],
         'search: unknown parameter: 400 not-supported');
($res, $b) = search("family=$fpg&foo=bar&_count=1");
is(($b // {})->{resourceType}, 'OperationOutcome',
   'search: the rejection body is an OperationOutcome');
($res, $b) = search(qs(family => $fid, foo => 'bar'),
                    Prefer => 'handling=lenient');
{
    my @out = grep { ($_->{search}{mode} // '') eq 'outcome' }
              @{ $b->{entry} || [] };
    is_deeply([ $res->code, $b->{total}, match_ids($b) ],
              [ 200, 2, [ sort $pid->{id}, $pid2->{id} ] ],
              'search: unknown parameter with Prefer: handling=lenient: 200, '
              . 'the parameter is ignored');
    is_deeply([ map { [ $_->{resource}{resourceType},
                        map { "$_->{severity}/$_->{code}" }
                        @{ $_->{resource}{issue} } ] } @out ],
              [ [ 'OperationOutcome', 'warning/not-supported' ] ],
              'search: lenient: an OperationOutcome entry (search.mode '
              . 'outcome) with a warning');
}
rejected(qs('family:exact' => $fid), 400, ['not-supported'],
         'search: modifier family:exact: 400 not-supported');
rejected(qs('given:contains' => 'ali', family => $fid), 400,
         ['not-supported'], 'search: modifier given:contains: 400');
($res, $b) = search(qs('family:exact' => 'nobody', _id => $pid->{id}),
                    Prefer => 'handling=lenient');
is_deeply([ $res->code, match_ids($b) ], [ 200, [ $pid->{id} ] ],
          'search: lenient: a modifier is ignored with a warning');

# --- bad values -------------------------------------------------------------
rejected("family=$fb&birthdate=1980-13-01", 400, ['value@birthdate'],
         'search: birthdate with month 13: 400 value');
rejected("family=$fb&birthdate=1980-02-30", 400, ['value@birthdate'],
         'search: birthdate 1980-02-30: 400 value');
rejected("family=$fb&birthdate=xx1980", 400, ['value@birthdate'],
         'search: birthdate with an unknown prefix: 400 value');
rejected("family=$fb&birthdate=yesterday", 400, ['value@birthdate'],
         'search: birthdate not a date: 400 value');
rejected("family=$fgd&gender=M", 400, ['code-invalid@gender'],
         'search: gender=M: 400 code-invalid');
rejected("family=$fgd&gender=female,F", 400, ['code-invalid@gender'],
         'search: one bad gender among OR values: 400 code-invalid');
rejected('family=', 400, ['value@family'], 'search: empty family: 400 value');
rejected('family=%21%3F', 400, ['value@family'],
         'search: family with nothing searchable ("!?"): 400 value');
rejected('family=' . ('a' x 257), 400, ['too-long@family'],
         'search: value longer than 256 bytes: 400 too-long');
rejected('identifier=|', 400, ['value@identifier'],
         'search: identifier=| (neither system nor value): 400 value');
rejected("family=$fg&given=" . join(',', 'a' .. 'k'), 400,
         ['too-costly@given'], 'search: 11 OR values: 400 too-costly');
found("family=$fg&given=" . join(',', 'alice', map { "zz$_" } 1 .. 9), [$gaa],
      'search: 10 OR values are accepted');
found(join('&', ("family=$fg") x 19, 'given=carol'), [$gcar],
      'search: 20 parameters are accepted');
rejected(join('&', ("family=$fg") x 20, 'given=carol'), 400, ['too-costly'],
         'search: 21 parameters: 400 too-costly');

# --- hostile values ---------------------------------------------------------
found(qs(family => "x' OR '1'='1"), [],
      'search: SQL in family is a value: total 0');
found(qs(identifier => '1;DROP TABLE cr_patient'), [],
      'search: SQL in identifier is a value: total 0');
found(qs(identifier => "x' OR 1=1 --", family => $fid), [],
      'search: SQL in identifier with family: total 0');
is(scalar(grep { $_ eq 'cr_patient' } @{ db_tables() }), 1,
   'search: cr_patient still exists');
found(qs(_id => $pid->{id}), [$pid], 'search: the registry still answers');
rejected('family=%ZZ', 400, ['invalid'], 'search: bad %-escape: 400 invalid');
rejected('family=ab%4', 400, ['invalid'],
         'search: truncated %-escape: 400 invalid');
rejected('family=%FF', 400, ['invalid'],
         'search: %FF (not UTF-8): 400 invalid');
rejected('family=%C3%28', 400, ['invalid'],
         'search: broken UTF-8 sequence: 400 invalid');
rejected('family=a%00b', 400, ['invalid'], 'search: %00: 400 invalid');
rejected('fam%ZZily=x', 400, ['invalid'],
         'search: bad %-escape in a parameter name: 400 invalid');

# --- too many candidates ----------------------------------------------------
my $fbig = unique_name();
my @big = map { make(family => $fbig)->{id} } 1 .. 200;
($res, $b) = search("family=$fbig");
is_deeply([ $res->code, $b->{total} ], [ 200, 200 ],
          'search: 200 candidates (ClientRegistrySearchCandidates) are '
          . 'searched');
push @big, make(family => $fbig)->{id};
rejected("family=$fbig", 400, ['too-costly'],
         'search: 201 candidates: 400 too-costly');
found(qs(family => $fbig, _id => $big[-1]), [ $big[-1] ],
      'search: the same family bounded by _id is answered');
is(db_row('SELECT COUNT(DISTINCT patient_id) AS n FROM cr_search_index '
          . "WHERE kind = 'family' AND value = ?", lc $fbig)->{n}, 201,
   'search: stored state: 201 patients with that family');
