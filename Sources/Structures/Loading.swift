import Basics

/// Where structures come from and how to read them: one place for every command.
public struct StructureSource: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case auto, extxyz, sites
    }

    public var path: String
    public var format: Format
    public var siteOptions: SiteTable.Options
    public var extxyzOptions: ExtXYZ.Options
    public var template: SiteTemplate

    public init(path: String, format: Format = .auto, siteOptions: SiteTable.Options = .init(),
                extxyzOptions: ExtXYZ.Options = .init(), template: SiteTemplate = .fcc111Top()) {
        self.path = path
        self.format = format
        self.siteOptions = siteOptions
        self.extxyzOptions = extxyzOptions
        self.template = template
    }

    /// The format actually used: `.sites` for .csv files, extxyz otherwise, unless told.
    public var resolvedFormat: Format {
        if format != .auto { return format }
        return path.lowercased().hasSuffix(".csv") ? .sites : .extxyz
    }

    /// What a load produced: the structures, and the site table when the input was one.
    public struct Loaded: Sendable {
        public let structures: [Structure]
        public let table: SiteTable?
    }

    /// Reads the input; site tables go through the site template.
    public func load() throws -> Loaded {
        switch resolvedFormat {
        case .sites:
            let table = try SiteTable.read(path: path, options: siteOptions)
            guard !table.rows.isEmpty else {
                throw InputError(file: path, "no rows left to use" + (siteOptions.groupValue.map { " (none with \(siteOptions.groupColumn ?? "group")=\($0))" } ?? ""))
            }
            return Loaded(structures: try template.structures(from: table), table: table)
        default:
            try checkReadableAsExtXYZ()
            return Loaded(structures: try ExtXYZ.read(path: path, options: extxyzOptions), table: nil)
        }
    }

    /// The one check before any path reads the input as extxyz (whole, or indexed across ranks):
    /// formats SiteLens does not read are named with their conversion, and site-table choices
    /// are refused, since ignoring them would train on rows the user meant to leave out.
    public func checkReadableAsExtXYZ() throws {
        let lower = path.lowercased()
        if let suffix = [".gz", ".traj", ".db"].first(where: { lower.hasSuffix($0) }) {
            let kind = suffix == ".gz" ? "gzipped" : "ASE \(suffix)"
            throw InputError(file: path, "\(kind) files are not read (only extxyz text and .csv site tables); convert it first: ase convert \(path) \(Self.convertedName(path)).xyz" + (suffix == ".gz" ? " (or gunzip it)" : ""))
        }
        if let value = siteOptions.groupValue {
            throw InputError(file: "--group", "keeps site-table rows, but \(path) is read as extxyz (--group \(siteOptions.groupColumn ?? "")=\(value) would be ignored); give a .csv site table or --format sites")
        }
        if siteOptions.siteColumns != nil {
            throw InputError(file: "--sites", "names site-table columns, but \(path) is read as extxyz (--sites would be ignored); give a .csv site table or --format sites")
        }
    }

    /// `path` without its format suffixes, for the conversion's output name.
    static func convertedName(_ path: String) -> String {
        var name = path
        for suffix in [".gz", ".traj", ".db", ".extxyz", ".xyz"] where name.lowercased().hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name
    }
}
