#!/usr/bin/env bash
# Parties and rights from CSV attribute tables: checked against the live parcels and parties,
# each bad row rejected with its reason, shares exact, a second load unchanged.
set -e
. "$(dirname "$0")/lib.sh"

run "$KADASTR" sample r.sqlite --parcels 50
expect_eq "sample" 0 "$rc"
n1=$(sqlite3 r.sqlite "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY number LIMIT 1")
n2=$(sqlite3 r.sqlite "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY number LIMIT 1 OFFSET 1")
# a PINFL with a valid check digit (weights 7,3,1 over the first 13 digits), one without
base=3120890123456
sum=0; w=(7 3 1)
for i in $(seq 0 12); do sum=$(( sum + ${base:$i:1} * ${w[$((i % 3))]} )); done
good="$base$(( sum % 10 ))"
bad="$base$(( (sum + 1) % 10 ))"
cat > parties.csv <<CSV
party_id,party_kind,name
$good,person,Karimov Aziz Baxtiyor o'g'li
$bad,person,Check Digit Fails
201234567,,Toshkent Qurilish MChJ
12345,person,Too Short
,person,No Id
CSV
run "$KADASTR" load r.sqlite parties.csv --as parties --rejects parties-rejects.gpkg --json
expect_eq "parties exit" 3 "$rc"
expect_eq "parties loaded" 3 "$(jget "$out" loaded)"
expect_eq "bad party id" 1 "$(jget "$out" rejected_by_reason.bad_party_id)"
expect_eq "missing field" 1 "$(jget "$out" rejected_by_reason.missing_field)"
expect_eq "check-digit warning" 1 "$(jget "$out" warnings)"
expect_contains "check-digit warning text" "fails its check digit" "$err"
expect_eq "organisation inferred" organisation "$(sqlite3 r.sqlite "SELECT kind FROM parties WHERE party_id = '201234567'")"
cat > rights.csv <<CSV
cadastral_number,party_id,right_kind,share,document,document_date,registered_on
$n1,$good,ownership,1/3,Notarial deed 12-345,2020-05-01,2020-05-03
$n1,201234567,ownership,2/3,Notarial deed 12-345,2020-05-01,2020-05-03
$n2,$good,lease,1,Lease 7,2021-01-10,2021-01-12
$n2,$good,ownership,4/3,x,2021-01-10,2021-01-12
$n2,999999999,ownership,1,x,2021-01-10,2021-01-12
10:99:99:99:99:9999,$good,ownership,1,x,2021-01-10,2021-01-12
10:99,$good,ownership,1,x,2021-01-10,2021-01-12
$n2,$good,ownership,1,x,2099-01-10,2021-01-12
CSV
run "$KADASTR" load r.sqlite rights.csv --as rights --rejects rights-rejects.gpkg --json
expect_eq "rights exit" 3 "$rc"
expect_eq "rights loaded" 3 "$(jget "$out" loaded)"
expect_eq "bad share" 1 "$(jget "$out" rejected_by_reason.bad_share)"
expect_eq "unknown party" 1 "$(jget "$out" rejected_by_reason.unknown_party)"
expect_eq "unknown parcel" 1 "$(jget "$out" rejected_by_reason.unknown_parcel)"
expect_eq "bad number" 1 "$(jget "$out" rejected_by_reason.bad_number)"
expect_eq "future date" 1 "$(jget "$out" rejected_by_reason.bad_date)"
expect_eq "rejects written" 5 "$(ogrinfo -ro -so rights-rejects.gpkg rejects | sed -n 's/^Feature Count: //p')"
expect_eq "exact shares" "1|3;2|3" "$(sqlite3 r.sqlite "SELECT group_concat(share_num || '|' || share_den, ';') FROM (SELECT share_num, share_den FROM rights r JOIN parties p ON p.id = r.party WHERE number = '$n1' AND p.party_id IN ('$good', '201234567') ORDER BY share_num)")"
# the lookup shows the rights with the parties (the office's own tool)
run "$KADASTR" lookup r.sqlite --number "$n1" --json
expect_contains "lookup shows the share" '"share":"2/3"' "$out"
# the same tables again: nothing changes
before=$(dbsum r.sqlite)
run "$KADASTR" load r.sqlite parties.csv --as parties --rejects p2.gpkg --json
expect_eq "parties unchanged" 3 "$(jget "$out" unchanged)"
run "$KADASTR" load r.sqlite rights.csv --as rights --rejects r2.gpkg --json
expect_eq "rights unchanged" 3 "$(jget "$out" unchanged)"
expect_eq "nothing changed" "$before" "$(dbsum r.sqlite)"
# the same PINFL under another name is a conflict, not an overwrite
printf 'party_id,name\n%s,Someone Else\n' "$good" > conflict.csv
run "$KADASTR" load r.sqlite conflict.csv --as parties --rejects c.gpkg --json
expect_eq "conflict" 1 "$(jget "$out" rejected_by_reason.conflict)"
expect_eq "name kept" "Karimov Aziz Baxtiyor o'g'li" "$(sqlite3 r.sqlite "SELECT name FROM parties WHERE party_id = '$good'")"
done_testing
