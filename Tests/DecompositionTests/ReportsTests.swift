import Basics
import Foundation
import Reports
import Testing

/// What the run's tables say: numbers that read back exactly.
struct ReportsTests {
    /// A DFT total energy and a spread of magnitudes: each number written to a table reads back
    /// as the same Double (issue 20: `%.6g` wrote −1225.8363929 eV as −1225.84).
    @Test func tableNumbersReadBackExactly() throws {
        var generator = SeededGenerator(seed: 20)
        let values = [-1225.8363929, 0.1 + 0.2, 1e-12, 6.02214076e23, -0.0] + (0..<200).map { _ in
            Double.random(in: -1...1, using: &generator) * pow(10, Double(Int.random(in: -8...8, using: &generator)))
        }
        for value in values {
            #expect(Double(tableNumber(value)) == value, "\(value) written as \(tableNumber(value))")
        }
        #expect(tableNumber(-1225.8363929) == "-1225.8363929")
    }

    /// predictions.csv and a JSON file hold the same Doubles as were written.
    @Test func predictionsAndJSONReadBackExactly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let prediction = EnsemblePrediction(index: 0, target: -1225.8363929, members: [-1225.8363929, -1225.83639291234], split: "test")
        let csv = folder.appendingPathComponent("p.csv")
        try RunReport.writePredictions([prediction], to: csv)
        let row = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")[1].split(separator: ",").map(String.init)
        #expect(row.dropFirst(2).compactMap(Double.init) == [prediction.target!, prediction.mean, prediction.std] + prediction.members)
        let json = folder.appendingPathComponent("p.json")
        try writeJSON(prediction, to: json)
        let back = try sitelensJSONDecoder().decode(EnsemblePrediction.self, from: Data(contentsOf: json))
        #expect(back.members == prediction.members && back.target == prediction.target && back.mean == prediction.mean)
    }
}
