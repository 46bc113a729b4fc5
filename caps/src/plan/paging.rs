//! The paging structures of each component's planned region, and the IO
//! page tables of each IOSpace.

use super::planner::Planner;
use super::{ObjectKind, Owner, PAGE_SIZE};
use std::collections::BTreeSet;

/// The PDPTs, page directories and page tables of component `c`'s planned
/// region (its mappings are the last ones planned).
pub(super) fn paging_structures(p: &mut Planner, c: usize) {
    let mut pdpt = BTreeSet::new();
    let mut pd = BTreeSet::new();
    let mut pt = BTreeSet::new();
    for m in p
        .plan
        .mappings
        .iter()
        .rev()
        .take_while(|m| m.component == c)
    {
        let mut a = m.vaddr;
        let end = m.vaddr + m.size();
        while a < end {
            pdpt.insert(a >> 39);
            pd.insert(a >> 30);
            pt.insert(a >> 21);
            a = ((a >> 21) + 1) << 21;
        }
    }
    let name = p.plan.components[c].name.clone();
    for (set, shift, kind, what) in [
        (pdpt, 39, ObjectKind::Pdpt, "pdpt"),
        (pd, 30, ObjectKind::PageDirectory, "pd"),
        (pt, 21, ObjectKind::PageTable, "pt"),
    ] {
        for k in set {
            let base = k << shift;
            let o = p.object(
                kind,
                format!("{name}.{what}@{base:#x}"),
                Owner::Component(c),
                1,
            );
            p.plan.objects[o].base = base;
        }
    }
}

/// One IO page table per level and distinct IOVA range of each IOSpace.
pub(super) fn io_page_tables(p: &mut Planner) {
    for pi in 0..p.plan.pci.len() {
        let mut levels: [BTreeSet<u64>; 3] = Default::default();
        for m in p.plan.io_mappings.iter().filter(|m| m.pci == pi) {
            let mut a = m.iova;
            let end = m.iova + u64::from(m.pages) * PAGE_SIZE;
            while a < end {
                levels[0].insert(0);
                levels[1].insert(a >> 30 << 30);
                levels[2].insert(a >> 21 << 21);
                a = ((a >> 21) + 1) << 21;
            }
        }
        let dev = p.plan.pci[pi].name.clone();
        for (level, bases) in levels.iter().enumerate() {
            for &base in bases {
                let o = p.object(
                    ObjectKind::IoPageTable,
                    format!("{dev}.iopt{level}@{base:#x}"),
                    Owner::Pci(pi),
                    1,
                );
                let obj = &mut p.plan.objects[o];
                obj.pci = Some(pi);
                obj.aux = level as u32;
                obj.base = base;
            }
        }
    }
}
