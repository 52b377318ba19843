//! A national-scale configuration for benchmarks and tests: 4,000 units in
//! groups and 22 obligations as TOML text: 20 of mixed cycles (monthly to
//! annual) and due rules, plus a daily and a weekly report owed by every unit
//! below the Government (about 1.2 million more deadlines a year).
//!
//! Used by `benches/plan.rs`, the `generated_national_config_is_valid` test
//! and `examples/gen_national.rs` (which writes it to a file:
//! `cargo run --example gen_national -- /tmp/national.toml`). The output
//! passes `hanbao check`. Deterministic: no randomness, no clock.

use std::fmt::Write as _;

const PROVINCES: usize = 34;
const UNITS: usize = 4000;

/// The whole configuration as TOML text.
pub fn generate() -> String {
    let mut s = String::with_capacity(2 << 20);
    s.push_str("# Cấu hình quy mô toàn quốc, sinh tự động bởi examples/gen_national.rs (dùng cho đo hiệu năng).\n\n");
    s.push_str("[[unit]]\nid = \"chinh-phu\"\nname = \"Chính phủ\"\nemail = \"vanthu@chinhphu.example\"\n\n");
    // Who speaks in the notices: one directive for every obligation.
    s.push_str(concat!(
        "[[directive]]\nid = \"nd09\"\nkind = \"Nghị định\"\nnumber = \"09/2019/NĐ-CP\"\n",
        "date = \"24/01/2019\"\nissuer = \"Chính phủ\"\n",
        "about = \"quy định chế độ báo cáo của cơ quan hành chính nhà nước\"\n",
        "sender = { agency = \"chinh-phu\", office = \"Văn phòng Chính phủ\" }\n",
        "contact = { name = \"Ông Trần Văn An\", title = \"Chuyên viên\", phone = \"024 3825 0000\", email = \"baocao@chinhphu.example\" }\n",
        "submission = { to = \"Cơ quan nhận báo cáo theo quy định\", how = \"Hệ thống thông tin báo cáo Chính phủ\" }\n\n",
    ));
    s.push_str("[[group]]\nid = \"ubnd-tinh\"\nname = \"UBND các tỉnh, thành phố\"\n\n");
    s.push_str("[[group]]\nid = \"so-nganh\"\nname = \"Các sở, ban ngành\"\n\n");
    s.push_str("[[group]]\nid = \"ubnd-xa\"\nname = \"UBND cấp xã\"\n\n");
    // Per province: its PC, and the rest split between departments and communes.
    let per_province = (UNITS - 1) / PROVINCES;
    let mut written = 1;
    for p in 0..PROVINCES {
        let pc = format!("ubnd-t{p:02}");
        let _ = write!(
            s,
            "[[unit]]\nid = \"{pc}\"\nname = \"UBND tỉnh số {p}\"\nemail = \"vanthu@t{p:02}.example\"\ngroups = [\"ubnd-tinh\"]\nsupervisor = \"chinh-phu\"\n\n"
        );
        written += 1;
        let count = if p == PROVINCES - 1 {
            UNITS - written
        } else {
            per_province - 1
        };
        for i in 0..count {
            let (group, kind) = if i < 20 {
                ("so-nganh", "so")
            } else {
                ("ubnd-xa", "xa")
            };
            let _ = write!(
                s,
                "[[unit]]\nid = \"{kind}-t{p:02}-{i:03}\"\nname = \"Đơn vị {i} tỉnh {p}\"\nemail = \"vanthu@{kind}{i:03}.t{p:02}.example\"\ngroups = [\"{group}\"]\nsupervisor = \"{pc}\"\n\n"
            );
            written += 1;
        }
    }
    assert_eq!(written, UNITS, "unit count");
    let cycles = [
        "monthly",
        "quarterly",
        "six-monthly",
        "six-monthly-first-half",
        "nine-monthly",
        "annual",
    ];
    let dues = [
        "5 ngày làm việc",
        "ngày 20",
        "10 ngày",
        "ngày 5 tháng sau",
        "3 ngày làm việc",
    ];
    let reporters = [
        "[\"so-nganh\"]",
        "[\"ubnd-xa\"]",
        "[\"so-nganh\", \"ubnd-xa\"]",
        "[\"ubnd-tinh\"]",
    ];
    for k in 0..20 {
        let cycle = cycles[k % cycles.len()];
        let window = if k % 3 == 0 { "decree09" } else { "calendar" };
        let recipient = if k % 4 == 3 {
            "chinh-phu"
        } else {
            "reporter.supervisor"
        };
        let _ = write!(
            s,
            "[[obligation]]\nid = \"bc-{k:02}\"\ntitle = \"Báo cáo số {k}\"\nreporters = {rep}\nrecipient = \"{recipient}\"\ncycle = \"{cycle}\"\nwindow = \"{window}\"\ndue = \"{due}\"\nreminders = [\"5 ngày làm việc\", \"1 ngày làm việc\"]\nactive_from = \"01/01/2020\"\n\n[[obligation.escalation]]\nafter = \"1 ngày làm việc\"\nnotify = [\"unit\", \"supervisor\"]\nrepeat = {{ every = \"5 ngày làm việc\", limit = 2 }}\n\n",
            rep = reporters[k % reporters.len()],
            due = dues[k % dues.len()],
        );
    }
    // Short cycles for every unit: a daily report by 9:00 of the next working
    // day and a weekly report by 16:00 on Friday of its week.
    let every = "[\"so-nganh\", \"ubnd-xa\", \"ubnd-tinh\"]";
    let _ = write!(
        s,
        "[[obligation]]\nid = \"bc-ngay\"\ntitle = \"Báo cáo hằng ngày\"\nreporters = {every}\nrecipient = \"reporter.supervisor\"\ncycle = \"daily\"\ndue = \"chậm nhất 9 giờ, 1 ngày làm việc\"\nreminders = [\"0 ngày\"]\nactive_from = \"01/01/2020\"\n\n[[obligation.escalation]]\nafter = \"1 ngày làm việc\"\nnotify = [\"unit\", \"supervisor\"]\n\n"
    );
    let _ = write!(
        s,
        "[[obligation]]\nid = \"bc-tuan\"\ntitle = \"Báo cáo hằng tuần\"\nreporters = {every}\nrecipient = \"reporter.supervisor\"\ncycle = \"weekly\"\ndue = \"trước 16 giờ 00 thứ Sáu\"\nreminders = [\"1 ngày làm việc\"]\nactive_from = \"01/01/2020\"\n\n[[obligation.escalation]]\nafter = \"0 ngày\"\nnotify = [\"unit\"]\n\n[[obligation.escalation]]\nafter = \"2 ngày làm việc\"\nnotify = [\"unit\", \"supervisor\"]\n\n"
    );
    s
}
