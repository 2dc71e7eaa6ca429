//! The Savina programs on ractor (the same text as Ensemble's).

savina_programs!(ractor);
