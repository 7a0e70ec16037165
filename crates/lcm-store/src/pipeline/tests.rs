//! Unit tests of the request-line reader: the one-pass path answers only where the general
//! path (`serde_json`, then the strict check) accepts, and with the same line.

use super::*;

/// Lines that use every field: escapes in strings (not in keys), nested metadata with every
/// kind of value and number, explanation digests, a `null` receipt id, white space between
/// tokens, a line of the docs' benchmark input.
const LINES: [&str; 5] = [
    "{\"request_id\":\"req_7\",\"query\":\"Is there pneumonia in chest X-ray number 7?\",\
     \"output\":\"No pneumonia detected (confidence: 95%)\",\"output_metadata\":{\"confidence\":0.95}}\n",
    "{\"request_id\":\"r-2\",\"receipt_id\":\"custom_2\",\"query\":\"a \\\"quoted\\\"\\n \\u00e9 é\",\
     \"output\":\"o\",\"input_metadata\":{\"a\":[1,2.5,null,true,false,{\"b\":\"é\"}],\"n\":-3,\
     \"tiny\":1e-7,\"big\":18446744073709551615},\"explanation_digests\":[\
     \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\
     \"ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\"]}\r\n",
    "{\"request_id\":\"r3\",\"query\":\"q\",\"output\":\"\",\"receipt_id\":null,\
     \"output_metadata\":{},\"explanation_digests\":[]}",
    "  { \"request_id\" : \"r4\" ,\n \"query\" : \"q\" , \"output\" : \"o\" ,\
     \"input_metadata\" : { \"deep\" : [ [ { \"x\" : [ ] } ] ] } }  \n",
    "{\"output\":\"o\",\"query\":\"q\",\"request_id\":\"last\"}",
];

/// The general path's answer for one line: the line, or `None` when it fails (or is blank).
fn general(bytes: &[u8]) -> Option<RequestLine> {
    let mut chunk = Vec::new();
    match general_line(bytes, 1, &mut chunk) {
        None => chunk.pop(),
        Some(_) => None,
    }
}

#[test]
fn fast_lines_are_read_as_serde_json_and_the_strict_check_read_them() {
    let (mut fast, mut checked) = (0usize, 0usize);
    for line in LINES {
        // Every line as written takes the fast path, with the general path's value.
        let got = fast_line(line.as_bytes()).expect("the fast path reads the line");
        assert_eq!(Some(&got), general(line.as_bytes()).as_ref(), "{line}");
        for changed in strict::reader::one_byte_changes(line.as_bytes()) {
            checked += 1;
            let Some(got) = fast_line(&changed) else {
                continue;
            };
            fast += 1;
            let text = String::from_utf8_lossy(&changed);
            match check_line_ids(&got) {
                Ok(()) => assert_eq!(Some(got), general(&changed), "{text}"),
                Err(e) => {
                    let mut chunk = Vec::new();
                    let stop = general_line(&changed, 1, &mut chunk);
                    assert!(
                        matches!(&stop, Some(Error::StrictLine { source, .. }) if *source == e),
                        "{text}: {stop:?}"
                    );
                }
            }
        }
    }
    // The changes reach both answers: many are read fast, many left to the general path.
    assert!(
        fast > 1_000 && checked - fast > 5_000,
        "{fast} of {checked}"
    );
}

#[test]
fn the_general_path_takes_what_the_fast_path_leaves() {
    for (line, why) in [
        (
            "{\"request_id\":\"r\",\"query\":{\"k\":1},\"output\":\"o\"}",
            "a query that is an object",
        ),
        (
            "{\"request_id\":\"r\",\"query\":\"q\",\"output\":[1,2]}",
            "an output that is an array",
        ),
        (
            "{\"request_\\u0069d\":\"r\",\"query\":\"q\",\"output\":\"o\"}",
            "a key with an escape",
        ),
        (
            "{\"request_id\":\"r\",\"query\":\"q\",\"output\":\"o\",\"explanation_digests\":\
             [\"00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\"]}",
            "a digest in capitals",
        ),
    ] {
        assert!(fast_line(line.as_bytes()).is_none(), "{why}");
        let mut chunk = Vec::new();
        let stop = general_line(line.as_bytes(), 1, &mut chunk);
        // Whatever the general path says of it stands: a line or the error naming it.
        assert!(stop.is_some() || chunk.len() == 1, "{why}: {stop:?}");
    }
    // Refused by both, and named by the general path.
    for (line, why) in [
        (
            "{\"request_id\":\"r\",\"query\":\"q\",\"output\":\"o\",\"query\":\"q\"}",
            "a repeated field",
        ),
        (
            "{\"request_id\":\"r\",\"query\":\"q\",\"output\":\"o\",\"input_metadata\":{\"a\":1,\"a\":2}}",
            "a repeated metadata key",
        ),
        (
            "{\"request_id\":\"r\",\"query\":\"q\",\"output\":\"o\",\"output_metadata\":{\"n\":123456789012345678901234567890}}",
            "an inexact number",
        ),
        (
            "{\"request_id\":\"r\",\"query\":\"q\",\"output\":\"o\",\"extra\":1}",
            "an unknown field",
        ),
        ("{\"request_id\":\"r\",\"query\":\"q\"}", "a missing field"),
        (
            "{\"request_id\":\"r\",\"query\":\"q\",\"output\":\"o\"} x",
            "trailing text",
        ),
    ] {
        assert!(fast_line(line.as_bytes()).is_none(), "{why}");
        let mut chunk = Vec::new();
        let stop = general_line(line.as_bytes(), 1, &mut chunk);
        assert!(
            matches!(
                stop,
                Some(Error::RequestLine { .. } | Error::StrictLine { .. })
            ),
            "{why}: {stop:?}"
        );
    }
}

/// A request body of `lcm serve` is read line by line as `lcm infer` reads its input: the same
/// lines, blank ones passed over, a failure named by its line number.
#[test]
fn request_bodies_are_read_as_infer_reads_lines() {
    // One line each (the fourth holds a line break in its white space: two lines of a body).
    let lines: Vec<&str> = LINES
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.contains('\n'))
        .collect();
    let read = parse_requests(&lines.join("\n\n")).unwrap();
    let expected: Vec<RequestLine> = lines.iter().filter_map(|l| general(l.as_bytes())).collect();
    assert_eq!((read.len(), &read), (4, &expected));
    let bad = format!(
        "{}\n\n{{\"request_id\":\"r\",\"query\":\"q\",\"output\":\"o\",\"query\":\"q\"}}",
        LINES[0].trim_end()
    );
    assert!(matches!(
        parse_requests(&bad),
        Err(Error::RequestLine { line: 3, .. })
    ));
    let unprintable = format!(
        "{}\n{{\"request_id\":\"a\\tb\",\"query\":\"q\",\"output\":\"o\"}}",
        LINES[4]
    );
    assert!(matches!(
        parse_requests(&unprintable),
        Err(Error::StrictLine { line: 2, .. })
    ));
}
