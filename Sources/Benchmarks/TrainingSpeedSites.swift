import Foundation
import Networks
import Structures
import Training
import MPI

extension TrainingSpeedBenchmark {
    /// Seed A's site network against Keras on the HEA table, when it is there: the printed line.
    func sitesLine(world: Communicator) throws -> String {
        let heaPath = configuration.hea ?? ["../shared/data/hea_co2rr_sites.csv", "../../shared/data/hea_co2rr_sites.csv"]
            .first { FileManager.default.fileExists(atPath: $0) }
        guard let heaPath else {
            let line = "\nsites benchmark not run: no HEA site table (give --hea)"
            log(line)
            return line
        }
        var options = SiteTable.Options(skipInvalid: true)
        try options.select(group: "Adsorbate=COOH")
        let structures = try StructureSource(path: heaPath, siteOptions: options).load().structures
        var plan = TrainingPlan()
        plan.kind = .sites
        plan.epochs = configuration.siteEpochs
        plan.quiet = true
        plan.modelOptions.descriptors = try ElementDescriptors.lookUp(for: ["Fe", "Co", "Ni", "Cu", "Mo"])
        setBLASThreads(1)
        let start = Date()
        let trained = try trainEnsemble(world: world, plan: plan, structures: structures)
        let seconds = Date().timeIntervalSince(start)
        let mae = trained.members[0].modelDescription.training?.finalValidationMAE ?? .nan
        log("\nsites (seed A's network), \(structures.count) COOH rows, \(configuration.siteEpochs) epochs, batch 32, 15 % held out:")
        var line = String(format: "SiteLens %.2f s (test MAE %.4f eV)", seconds, mae)
        if configuration.runsReferences {
            switch references.run("keras_reference.py", ["sites", heaPath, "\(configuration.siteEpochs)"], removing: ReferenceScripts.openBLASVariables) {
            case .success(let text):
                if let keras = ReferenceScripts.number(text, "seconds") {
                    line += String(format: "   Keras %.2f s (test MAE %.4f eV)   SiteLens is %.1f× faster", keras,
                                   ReferenceScripts.number(text, "test_mae") ?? .nan, keras / seconds)
                }
            case .failure(let why): line += "   Keras not run: \(why.reason.prefix(80))"
            }
        }
        log(line)
        return line
    }
}
