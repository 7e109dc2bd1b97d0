//! Reachability with memory: whether any marked item (a loose part, a node planned short) can be
//! reached from a root, asked once per generator of a document. Items in a document's graph never
//! change once read, so an item from which no marked item was reached stays clean, and later
//! questions stop there: asking for every response of a document costs about one walk of its
//! graph, not one per response.

/// Remembers which items reach no marked item, and which the current walk has seen.
#[derive(Debug, Default)]
pub(crate) struct Reach {
    clean: Vec<bool>,
    /// The walk that last saw each item.
    seen: Vec<u32>,
    walk: u32,
}

impl Reach {
    /// Whether a marked item is reachable from `root`: `visit` says whether an item is marked,
    /// and when it is not, pushes its children (items are numbered from 0; the numbers may grow
    /// between and during walks).
    pub(crate) fn reaches(
        &mut self,
        root: u32,
        mut visit: impl FnMut(u32, &mut Vec<u32>) -> bool,
    ) -> bool {
        self.walk = self.walk.wrapping_add(1);
        if self.walk == 0 {
            self.seen.fill(0);
            self.walk = 1;
        }
        let mut visited = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            let index = id as usize;
            if index >= self.clean.len() {
                self.clean.resize(index + 1, false);
                self.seen.resize(index + 1, 0);
            }
            if self.clean[index] || self.seen[index] == self.walk {
                continue;
            }
            self.seen[index] = self.walk;
            if visit(id, &mut stack) {
                return true;
            }
            visited.push(index);
        }
        // Everything seen reaches only what this walk saw: nothing marked.
        for index in visited {
            self.clean[index] = true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_items_are_found_through_cycles_and_clean_ones_are_remembered() {
        // 0 → 1 → 2 → 0, 3 → 4 (marked), 3 → 0.
        let edges: Vec<Vec<u32>> = vec![vec![1], vec![2], vec![0], vec![4, 0], vec![]];
        let mut reach = Reach::default();
        let mut walked = 0;
        let ask = |reach: &mut Reach, root: u32, walked: &mut usize| {
            reach.reaches(root, |id, stack| {
                if id == 4 {
                    return true;
                }
                *walked += 1;
                stack.extend(&edges[id as usize]);
                false
            })
        };
        assert!(!ask(&mut reach, 0, &mut walked));
        assert_eq!(walked, 3, "the cycle once");
        assert!(!ask(&mut reach, 1, &mut walked));
        assert_eq!(walked, 3, "known clean: not walked again");
        assert!(ask(&mut reach, 3, &mut walked));
        assert!(
            !reach.clean[3],
            "a walk that found a mark leaves nothing clean"
        );
    }
}
