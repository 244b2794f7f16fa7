import Foundation
import Testing
import TestSupport

/// `bench scaling`'s table, not its speeds (a unit test must not time anything): every
/// configuration ran and was read, including the machine's ceiling of independent ranks.
struct BenchScalingTests {
    let sitelens = buildProductsDirectory().appendingPathComponent("sitelens").path

    @Test func theScalingTableHasTheIndependentCeilingAndEachRunsShareOfIt() throws {
        let run = try runProcess(sitelens, ["bench", "scaling", "--ranks", "1,2", "--epochs", "2", "--grid", "16", "--all-reduce", "single"],
                                 timeout: 600)
        #expect(run.status == 0, "\(run.stderr)")
        let rows = run.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(!run.stdout.contains("failed"), "\(run.stdout)")
        for model in ["ryczko", "atomic"] {
            let mine = rows.filter { $0.first == model }
            // ryczko's name has a second word (G=16): read the cells from the rank count on.
            let cells = { (mode: String) in mine.first { $0.contains(mode) }.map { Array($0.drop { $0 != "1" && $0 != "2" }) } }
            let independent = cells("independent"), single = cells("single")
            #expect(independent?.prefix(2) == ["2", "independent"], "\(model): \(mine)")
            // Data parallel: samples/s, speed-up, efficiency, a percentage of the ceiling, the share.
            #expect(single?.count == 7 && single?[5].hasSuffix("%") == true && single?[5] != "-", "\(model): \(mine)")
            #expect(single.flatMap { Double($0[2]) }.map { $0 > 0 } == true, "\(model): \(mine)")
        }
    }
}
