//! The Savina programs on Ensemble.

savina_programs!(ensemble);
