import Foundation
import Testing
import TestSupport
@testable import Networks
@testable import Structures

@Suite(.serialized)
struct EnsembleTests {
    /// A member's weights follow from its seed alone: whether its group has 1 or 2 ranks, whether
    /// the groups are even, and whether a group trains several members in turn.
    @Test func membersDoNotDependOnHowTheWorldIsSplit() throws {
        let (folder, csv, _) = try plantedData(rows: 45)
        let common = [csv, "--epochs", "2", "--batch-size", "8", "--seed", "3"]
        let alone = folder.appendingPathComponent("alone"), uneven = folder.appendingPathComponent("uneven"),
            queued = folder.appendingPathComponent("queued")
        try train(ranks: 1, common + ["--ensemble", "3", "--run-dir", alone.path])
        let split = try train(ranks: 3, common + ["--ensemble", "2", "--run-dir", uneven.path])   // groups of 2 and 1
        #expect(split.stdout.contains("2 members on 3 ranks in 2 groups"))
        try train(ranks: 2, common + ["--ensemble", "3", "--run-dir", queued.path])   // group 0 trains members 0 and 2
        for member in 0..<3 {
            let reference = try memberTensors(alone, member: member)
            #expect(largestRelativeDifference(reference, try memberTensors(queued, member: member)) <= 1e-5, "member \(member), 2 ranks")
            if member < 2 {
                #expect(largestRelativeDifference(reference, try memberTensors(uneven, member: member)) <= 1e-5, "member \(member), 3 ranks")
            }
        }
        #expect(try memberTensors(alone, member: 0) != memberTensors(alone, member: 1), "members should differ by seed")
    }

    @Test func decomposeAndPredictReproduceTheRunsOutputs() throws {
        let (folder, csv, _) = try plantedData(rows: 30)
        let run = folder.appendingPathComponent("run")
        try train(ranks: 2, [csv, "--epochs", "3", "--ensemble", "2", "--run-dir", run.path])
        let again = folder.appendingPathComponent("again")
        let decompose = try runProcess(sitelens, ["decompose", "--run", run.path, "--out", again.path])
        #expect(decompose.status == 0, "\(decompose.stderr)")
        #expect(try String(contentsOf: again.appendingPathComponent("decomposition.csv"), encoding: .utf8)
                == String(contentsOf: run.appendingPathComponent("decomposition.csv"), encoding: .utf8))
        let predictions = folder.appendingPathComponent("p.csv")
        let predict = try mpirun(2, sitelens, ["predict", "--run", run.path, csv, "--out", predictions.path])
        #expect(predict.status == 0, "\(predict.stderr)")
        #expect(try String(contentsOf: predictions, encoding: .utf8) == String(contentsOf: run.appendingPathComponent("predictions.csv"), encoding: .utf8))
    }

    /// One test set for the whole ensemble: labelled in predictions.csv, never trained or
    /// validated on by any member, and its errors computed from exactly those rows.
    @Test func theEnsembleIsScoredOnOneHeldOutTestSet() throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        let run = folder.appendingPathComponent("run")
        let result = try train(ranks: 2, [csv, "--epochs", "3", "--ensemble", "2", "--test-fraction", "0.2", "--run-dir", run.path])
        #expect(result.stdout.contains("test set (8 structures no member saw)"), "\(result.stdout)")
        let rows = try String(contentsOf: run.appendingPathComponent("predictions.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let test = rows.filter { $0[1] == "test" }
        #expect(test.count == 8)
        #expect(rows.filter { $0[1] != "test" }.allSatisfy { $0[1].contains("m0:") && $0[1].contains("m1:") })
        let mae = test.map { abs(Double($0[3])! - Double($0[2])!) }.reduce(0, +) / Double(test.count)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("test-metrics.json"))) as! [String: Any]
        let ensembleMean = metrics["ensembleMean"] as! [String: Double]
        #expect(abs(ensembleMean["mae"]! - mae) < 1e-5 * max(mae, 1), "test-metrics.json \(ensembleMean), from predictions.csv \(mae)")
        #expect((metrics["members"] as! [Any]).count == 2)
    }

    @Test func theImageCNNTrainsInOneProcessWithoutMpirun() throws {
        let folder = try temporaryFolder("sitelens-ryczko")
        let clusters = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: 24, seed: 1), to: clusters)
        let run = folder.appendingPathComponent("run")
        let result = try runProcess(sitelens, ["train", clusters.path, "--model", "ryczko", "--grid", "16", "--extent", "5",
                                               "--blocks", "1", "--dense", "16", "--epochs", "2", "--batch-size", "8",
                                               "--run-dir", run.path], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("decomposition (partial dependence)"))
        #expect(result.stdout.contains("24 of 24 structures have no site labels"))   // clusters have no sites
        let model = try EnergyModel.load(from: run.appendingPathComponent("model"), name: "member-0")
        #expect(model.modelDescription.architecture.kind == .ryczko)
        let table = try String(contentsOf: run.appendingPathComponent("decomposition.csv"), encoding: .utf8)
        #expect(table.hasPrefix("site,element,mean"))
    }
}
