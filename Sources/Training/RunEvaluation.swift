import Structures

extension TrainingRun {
    /// Every structure evaluated by the ensemble just trained, with the ownership of training
    /// (`evaluateShared`; a collective, so every rank calls it): world rank 0 gets member m's
    /// item contributions for structure i at [m][i], the other ranks nil.
    public func evaluate(_ trained: TrainedEnsemble, structures: StructureStore) throws -> [[[Double]]]? {
        let contributions = try evaluateShared(world: world, trained: trained, structures: structures)
        return world.rank == 0 ? contributions : nil
    }
}
