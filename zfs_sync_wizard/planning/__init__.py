"""Pure planning: what each side holds (inventory), what to send (plan),
what to prune (retention; a year of it: outlook), which snapshots and
datasets a job carries (selection, exclusion), whether a partial receive is resumed (resume),
what each side's zfs can do (capabilities), and the plan as text.  Takes
everything as arguments (`now` included); starts no process."""
