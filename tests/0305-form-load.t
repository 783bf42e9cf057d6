#!/bin/sh
# bb-form check on definitions the fuzzer found: each mistake is reported with FILE:LINE
# and exit 78, never a crash.
. "${0%/*}/lib.sh"

# An option without a value, then one whose label lacks German: the loader freed the
# first label and, reusing its slot, freed it again ("double free detected", abort).
cat > novalue.yaml <<'Y'
id: t
version: 1
title: {de: T, en: T}
sections:
  - id: s
    title: {de: S, en: S}
    fields:
      - name: k
        type: select
        label: {de: K, en: K}
        options:
          - {label: {de: A, en: A}}
          - {label: {en: B}}
Y
expect_code 78 "options without value and without German: 78, no double free" \
	"$BB_FORM" check novalue.yaml
check_grep "the missing value is named" "^bb-form: novalue.yaml:12: missing 'value'" err
check_grep "the missing German is named" "^bb-form: novalue.yaml:13: label: missing the German text (de)" err
# The same the other way round, and with a valid option after them.
sed -e 's/{label: {de: A, en: A}}/{label: {de: A}}/' -e 's/{label: {en: B}}/{label: {en: B}}\n          - {value: c, label: {de: C, en: C}}/' \
	novalue.yaml > noenglish.yaml
expect_code 78 "options without value and without English: 78" "$BB_FORM" check noenglish.yaml

done_testing
