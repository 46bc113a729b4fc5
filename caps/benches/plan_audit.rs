//! Planning and auditing generated systems of 10, 100 and 256 components
//! (the most a system may have, `paddock_spec::limits::MAX_COMPONENTS`),
//! each the producer of two rings and the consumer of two.
//! Run with `cargo bench -p paddock-caps`; prints the median of several
//! runs per size and the time per component, which stays flat when the
//! cost grows linearly.

use paddock_caps::{audit::audit, encode::encode, parse, plan::plan};
use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn description(n: usize) -> String {
    let mut s = String::from("[system]\nname = \"bench\"\nkernel = \"release\"\n");
    for i in 0..n {
        let _ = write!(
            s,
            "\n[[component]]\nname = \"c{i}\"\nprogram = \"worker\"\npriority = 100\n"
        );
    }
    for i in 0..n {
        for k in 1..=2 {
            let _ = write!(
                s,
                "\n[[ring]]\nname = \"r{i}-{k}\"\nproducer = \"c{i}\"\nconsumer = \"c{}\"\nslots = 64\ndata_size = 0x4000\n",
                (i + k) % n
            );
        }
    }
    s
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    println!(
        "{:>6} {:>12} {:>12} {:>12} {:>14}",
        "comps", "parse+valid", "plan+audit", "encode", "plan+audit/c"
    );
    for n in [10usize, 100, paddock_spec::limits::MAX_COMPONENTS] {
        let text = description(n);
        let runs = if n >= 200 { 5 } else { 20 };
        let (mut load_t, mut plan_t, mut enc_t) = (vec![], vec![], vec![]);
        for _ in 0..runs {
            let t = Instant::now();
            let d = parse(Path::new("bench.toml"), &text).expect("generated description is valid");
            load_t.push(t.elapsed());
            let t = Instant::now();
            let p = plan(&d);
            let a = audit(&d.description, &p);
            assert!(a.passed());
            plan_t.push(t.elapsed());
            let t = Instant::now();
            black_box(encode(&p));
            enc_t.push(t.elapsed());
        }
        let pa = median(plan_t);
        println!(
            "{n:>6} {:>12.2?} {:>12.2?} {:>12.2?} {:>12.2?}",
            median(load_t),
            pa,
            median(enc_t),
            pa / n as u32
        );
    }
}
