//! The restore path of [`DatasetFamilyManager`]: a family and its splits made earlier,
//! adopted after every check the create path applies.

use super::*;

impl DatasetFamilyManager {
    /// Adopts a family anchor and its split anchors made earlier (for example by another
    /// process and read back from storage), so that everything the create path offers works
    /// on them: the lookups, [`Self::datasets_root_anchor`], [`Self::record_inclusion_proof`],
    /// [`Self::add_dataset_splits`] for the splits not yet made, and
    /// [`ModelManager::create_model_anchor`](crate::ModelManager::create_model_anchor) with
    /// the family as an authorized dataset.
    ///
    /// Nothing given is trusted. Recomputed: the family anchor's seal under this manager's
    /// policy, its metadata digest (from the metadata) and that its KDF cost is not below the
    /// floor; for every split, its seal, that it names this family (id and anchor digest),
    /// that no split is given twice, the checks of [`Self::add_dataset_splits`] on its ids
    /// (non-empty, unique, as many as `sample_count`, one content digest per id), its
    /// assignment digest and records root from the ids ([`verify_split_records`]) and its
    /// contents root from the content digests ([`verify_split_contents`]), or that there are
    /// none when the anchor has no contents root; and that no record is in two splits. The
    /// password is neither needed nor checked (see [`Self::verify_password`]). Nothing is
    /// stored unless everything passes. This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] when the policy excludes dataset families or splits;
    /// [`Error::Empty`] for an empty family id, metadata field or record id;
    /// [`lcm_model::Error::DuplicateId`] for a family id already held or a split given twice;
    /// [`lcm_model::Error::SealMismatch`] for a seal or metadata digest that does not match its
    /// content; [`Error::Crypto`] for a KDF cost below the floor; [`lcm_model::Error::UnexpectedValue`] naming
    /// `family_id` or `family_anchor` for a split of another family, `sample_count` for ids
    /// added or removed, or `content_digests` for digests that do not pair up with the ids or
    /// the anchor; [`lcm_model::Error::EmptyCollection`] for a split without ids;
    /// [`Error::DuplicateRecord`] for an id listed twice; [`Error::Model`] with
    /// [`lcm_model::Error::RootMismatch`] for ids or contents that do not reproduce the
    /// anchor's roots; [`Error::OverlappingSplits`] naming a record found in two splits.
    pub fn restore_family(
        &mut self,
        family: Claimed<DatasetFamilyAnchor>,
        splits: Vec<RestoredSplit>,
    ) -> Result<(), Error> {
        let policy = self.ctx.policy();
        if !dataset_domain_allowed(policy, DomainType::DatasetFamily) {
            return Err(Error::DomainNotAllowed {
                domain: "dataset_family",
            });
        }
        if !splits.is_empty() && !dataset_domain_allowed(policy, DomainType::DatasetSplit) {
            return Err(Error::DomainNotAllowed {
                domain: "dataset_split",
            });
        }
        let family_id = family.record().family_id.as_str();
        self.check_new_family_id(family_id)?;
        let family = check_seal(&self.ctx, FAMILY, family_id, &family)?;
        let f = &family.record();
        f.metadata
            .validate()
            .map_err(|e| empty_field(FAMILY, family_id, e))?;
        let metadata_digest = f.metadata.digest(policy)?;
        same_digest(
            "dataset family metadata_digest",
            family_id,
            f.metadata_digest,
            metadata_digest,
        )?;
        check_kdf_iterations(f.kdf_iterations)?;

        let mut entries: BTreeMap<DatasetSplit, SplitEntry> = BTreeMap::new();
        for restored in splits {
            let RestoredSplit {
                anchor,
                record_ids,
                content_digests,
            } = restored;
            let a = &anchor.record();
            let split = a.split;
            let split_id = format!("{family_id}/{split}");
            let anchor = check_seal(&self.ctx, SPLIT, &split_id, &anchor)?;
            if a.family_id != family_id {
                return Err(Error::unexpected(
                    SPLIT,
                    format!("{}/{split}", a.family_id),
                    "family_id",
                    format!("a split of dataset family {family_id:?}"),
                    format!("{:?}", a.family_id),
                ));
            }
            if a.family_anchor != family.digest() {
                return Err(Error::unexpected(
                    SPLIT,
                    split_id,
                    "family_anchor",
                    family.digest().to_string(),
                    a.family_anchor.to_string(),
                ));
            }
            fresh_id(SPLIT, &split_id, entries.contains_key(&split))?;
            let anchored_contents = a.contents_root.is_some();
            let given_contents = !content_digests.is_empty();
            if anchored_contents != given_contents {
                return Err(Error::unexpected(
                    SPLIT,
                    split_id,
                    "content_digests",
                    if anchored_contents {
                        "one content digest per record id (the anchor has a contents root)"
                            .to_owned()
                    } else {
                        "no content digests (the anchor has no contents root)".to_owned()
                    },
                    format!("{} content digests", content_digests.len()),
                ));
            }
            let mut info = SplitInfo {
                sample_count: a.sample_count,
                record_ids,
                content_digests,
                ..SplitInfo::new(Vec::new())
            };
            let (records, contents) = check_split(family_id, split, &split_id, &mut info)?;
            verify_split_records(policy, a, &records)?;
            if let Some(contents) = &contents {
                let by_id: BTreeMap<String, Digest> = records
                    .iter()
                    .cloned()
                    .zip(contents.iter().copied())
                    .collect();
                verify_split_contents(policy, a, &by_id)?;
            }
            entries.insert(
                split,
                SplitEntry {
                    anchor,
                    records,
                    contents,
                },
            );
        }
        check_overlap(
            family_id,
            entries
                .iter()
                .map(|(s, e)| (*s, e.records.as_slice()))
                .collect(),
        )?;
        self.families.insert(
            family_id.to_owned(),
            FamilyEntry {
                anchor: family,
                splits: entries,
            },
        );
        Ok(())
    }
}
